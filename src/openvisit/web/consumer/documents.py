"""The consumer's documents page, behind their appointment's manage link.

`/manage/<token>/documents` lists the service's prerequisite documents and what the
consumer sent, and takes a new file (a multipart form that works without JavaScript).
`/manage/<token>/documents/<id>` downloads one; `.../<id>/delete` removes one of their own.

- The link is checked before anything else, the body included: a revoked, expired or
  made-up link gets the same 404 page and nothing is read or stored.
- The forms carry a CSRF token: an HMAC of a random nonce the browser holds in an
  HttpOnly cookie scoped to /manage (a signed double-submit cookie, as the login form's).
- Files are served as attachments with the type read from their content, `nosniff` and
  `Content-Security-Policy: sandbox` (openvisit/downloads.py).
- Every text is in the gettext domain `pages`; the language is the `lang` switcher's,
  else the one the consumer booked in, else the browser's, else the business's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from openvisit import consumer_links, i18n
from openvisit.auth.sessions import check_csrf, csrf_token, login_nonce
from openvisit.bookings import linked_documents
from openvisit.bookings.document_rows import NewFile
from openvisit.bookings.document_types import ALLOWED
from openvisit.bookings.linked_documents import LinkedDocuments
from openvisit.downloads import document_response
from openvisit.errors import DomainError, InvalidInput, NotFound
from openvisit.runtime import Runtime
from openvisit.web.consumer.document_page import (
    STALE_FORM,
    UNREADABLE_FORM,
    Notice,
    refusal,
    render,
    unavailable,
)
from openvisit.web.consumer.rendering import chosen_language
from openvisit.web.deps import RuntimeDep
from openvisit.web.rendering import PageRoute, see_other

router = APIRouter(include_in_schema=False, route_class=PageRoute)

CSRF_COOKIE = "openvisit_manage_csrf"
CSRF_PATH = "/manage"
# The POST that may carry a file, for app.py's body cap (graph/limits.py UploadPath).
UPLOAD_PATTERN = re.compile(r"/manage/[^/]+/documents")
FORM_FIELDS = 4
FORM_FIELD_BYTES = 4 * 1024
ACCEPT = ",".join([*(kind.split(";")[0] for kind in ALLOWED), ".heic", ".heif", ".txt"])

Language = Annotated[str | None, Query(alias="lang", max_length=35)]
Flag = Annotated[str | None, Query(max_length=8)]


@dataclass(frozen=True)
class Visit:
    """One request to the documents pages: whose link, in which language asked for."""

    request: Request
    runtime: Runtime
    token: str
    chosen: str | None  # the `lang` switcher's choice, if any

    def language(self, page: LinkedDocuments | None = None) -> str:
        appointment = page.linked.appointment if page is not None else None
        # The switcher's choice here, else the one remembered from another consumer page
        # (the cookie), else the language the appointment was booked in.
        return i18n.negotiate(
            chosen=i18n.supported(self.chosen)
            or chosen_language(self.request)
            or (appointment.customer_language if appointment else None),
            accept_language=self.request.headers.get("accept-language"),
            default=page.linked.business.language_tag if page is not None else None,
        )

    def here(self, **query: str) -> str:
        """The documents page's own address, keeping the language switcher's choice."""
        return _page_url(self.token, self.chosen, **query)

    def load(self) -> LinkedDocuments:
        runtime = self.runtime
        return linked_documents.documents_for_link(
            runtime.db, runtime.clock, runtime.documents, runtime.secret_key, self.token
        )

    async def load_or_refuse(self) -> LinkedDocuments | Response:
        try:
            return await run_in_threadpool(self.load)
        except NotFound as error:
            return self.unavailable(error)

    def unavailable(self, error: DomainError) -> Response:
        return unavailable(self.language(), error.reason)

    async def checked_form(self, page: LinkedDocuments, *, max_files: int) -> FormData | Response:
        """The posted form once its CSRF token matches the browser's cookie; else the page
        again with why (nothing of the form is used)."""
        try:
            form = await self.request.form(
                max_files=max_files, max_fields=FORM_FIELDS, max_part_size=FORM_FIELD_BYTES
            )
        except HTTPException:  # a malformed or over-long form part
            return self.page(page, error=UNREADABLE_FORM, status=400)
        submitted = form.get("csrf_token")
        nonce = self.request.cookies.get(CSRF_COOKIE)
        if not check_csrf(
            self.runtime.secret_key, nonce, submitted if isinstance(submitted, str) else ""
        ):
            await form.close()
            return self.page(page, error=STALE_FORM, status=400)
        return form

    def refused(self, error: DomainError) -> Response:
        if isinstance(error, NotFound) and error.reason.startswith("manageLink"):
            return self.unavailable(error)  # revoked while the form was open
        # Counted again: a refused file may still have been the one that filled the room.
        return self.page(self.load(), error=error, status=error.status)

    def page(
        self,
        page: LinkedDocuments,
        *,
        notice: Notice | None = None,
        error: DomainError | str | None = None,
        status: int = 200,
    ) -> Response:
        runtime = self.runtime
        nonce = login_nonce(self.request.cookies.get(CSRF_COOKIE))
        response = render(
            self.language(page),
            page,
            csrf=csrf_token(runtime.secret_key, nonce),
            here=self.here(),
            accept=ACCEPT,
            max_bytes=runtime.documents.max_bytes,
            notice=notice,
            error=error,
            status=status,
        )
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            path=CSRF_PATH,
            secure=runtime.secure_cookies,
            httponly=True,
            samesite="lax",
        )
        return response


def _page_url(token: str, chosen: str | None, **query: str) -> str:
    language = i18n.supported(chosen)
    params = {**({"lang": language} if language else {}), **query}
    url = consumer_links.documents_url("", token)
    return f"{url}?{urlencode(params)}" if params else url


@router.get("/manage/{token}/documents")
async def documents_page(
    request: Request,
    token: str,
    runtime: RuntimeDep,
    lang: Language = None,
    sent: Flag = None,
    deleted: Flag = None,
) -> Response:
    visit = Visit(request, runtime, token, lang)
    page = await visit.load_or_refuse()
    if isinstance(page, Response):
        return page
    return visit.page(page, notice=Notice.SENT if sent else Notice.DELETED if deleted else None)


@router.post("/manage/{token}/documents")
async def upload_document(
    request: Request, token: str, runtime: RuntimeDep, lang: Language = None
) -> Response:
    visit = Visit(request, runtime, token, lang)
    # The link first: a stranger's body is never parsed, let alone stored.
    page = await visit.load_or_refuse()
    if isinstance(page, Response):
        return page
    form = await visit.checked_form(page, max_files=1)
    if isinstance(form, Response):
        return form
    try:
        upload = _chosen_file(form)
        if upload is None:
            return await run_in_threadpool(visit.refused, InvalidInput("documentFileRequired"))
        await run_in_threadpool(
            linked_documents.upload_for_link,
            runtime.db,
            runtime.clock,
            runtime.documents,
            runtime.secret_key,
            token,
            upload,
        )
    except DomainError as error:
        return await run_in_threadpool(visit.refused, error)
    finally:
        await form.close()
    return see_other(visit.here(sent="1"))


@router.get("/manage/{token}/documents/{document_id}")
def download_document(
    request: Request, token: str, document_id: str, runtime: RuntimeDep, lang: Language = None
) -> Response:
    visit = Visit(request, runtime, token, lang)
    try:
        content = linked_documents.open_for_link(
            runtime.db, runtime.clock, runtime.documents, runtime.secret_key, token, document_id
        )
    except NotFound as error:
        return visit.unavailable(error)
    return document_response(content)


@router.post("/manage/{token}/documents/{document_id}/delete")
async def delete_document(
    request: Request, token: str, document_id: str, runtime: RuntimeDep, lang: Language = None
) -> Response:
    visit = Visit(request, runtime, token, lang)
    page = await visit.load_or_refuse()
    if isinstance(page, Response):
        return page
    form = await visit.checked_form(page, max_files=0)
    if isinstance(form, Response):
        return form
    await form.close()
    try:
        await run_in_threadpool(
            linked_documents.delete_for_link,
            runtime.db,
            runtime.clock,
            runtime.documents,
            runtime.secret_key,
            token,
            document_id,
        )
    except DomainError as error:
        return await run_in_threadpool(visit.refused, error)
    return see_other(visit.here(deleted="1"))


def refuse_too_large(request: Request, limit: int) -> Response:
    """The page for a body over the upload cap (graph/limits.py calls it, unread)."""
    del limit  # the request's cap; the page names the file's own, which a person can act on
    runtime: Runtime = request.app.state.runtime
    token = request.url.path.split("/")[2]  # matched UPLOAD_PATTERN: /manage/<token>/...
    visit = Visit(request, runtime, token, request.query_params.get("lang"))
    return refusal(visit.language(), runtime.documents.max_bytes, back=_page_url(token, None))


def _chosen_file(form: FormData) -> NewFile | None:
    part = form.get("file")
    # Without a file chosen, browsers still send the part, with an empty name and body.
    if not isinstance(part, UploadFile) or (not part.filename and not part.size):
        return None
    return NewFile(part.file, part.filename)
