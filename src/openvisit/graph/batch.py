"""/$batch: Graph's JSON batching, up to 20 API requests in one call.

The batch body is checked whole first; a malformed one (over 20 requests, ids not
unique, a `dependsOn` naming no earlier request, a body without its Content-Type...) is
answered 400 and nothing in it runs. Otherwise the answer is 200 and each request gets
its own status, headers and body, whatever they are, as Graph does.

Each request is sent through the whole app as if it came alone (graph/batch_dispatch.py)
and authorized with the batch's token as its own operation; the batch itself needs only
a valid token. Requests run one after another in the order listed, which Graph allows
(it may run independent ones in parallel and answer in any order): a SQLite write then
never waits on a sibling's, and one batch holds at most one booking-admission slot at a
time. A request whose `dependsOn` names one that did not succeed is not run and answers
424 Failed Dependency. Batches do not nest.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, Field, field_validator, model_validator

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.errors import InvalidInput
from openvisit.graph.batch_dispatch import IN_BATCH, InnerRequest, dispatch, is_json_media_type
from openvisit.graph.deps import Require
from openvisit.graph.errors import error_response
from openvisit.graph.schemas.types import NAME_MAX, GraphModel

router = APIRouter(tags=["batch"])
Sender = Annotated[Caller, Depends(Require(access.BATCH_SEND))]

MAX_REQUESTS = 20  # Graph's documented limit
MAX_HEADERS = 50
# uvicorn's bound on a direct request's line and headers: a batch is no way around it.
MAX_URL = 16_384
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


class BatchRequestItem(GraphModel):
    """One request of a batch, as Graph's JSON batching format describes it."""

    id: str = Field(min_length=1, max_length=NAME_MAX)
    method: str
    url: str = Field(min_length=1, max_length=MAX_URL)
    headers: dict[str, str] | None = Field(default=None, max_length=MAX_HEADERS)
    body: Any = None
    # msgraph-core for Python (1.5) writes `depends_on`; Graph's format says `dependsOn`.
    depends_on: list[str] | None = Field(
        default=None,
        validation_alias=AliasChoices("dependsOn", "depends_on"),
        max_length=MAX_REQUESTS,
    )

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value.upper() not in METHODS:
            raise ValueError(f"must be one of {', '.join(METHODS)}")
        return value.upper()

    @field_validator("url")
    @classmethod
    def _relative(cls, value: str) -> str:
        if "://" in value or value.startswith("//"):
            raise ValueError(
                "must be relative to the version root, such as '/solutions/bookingBusinesses'"
            )
        return value

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, text in (value or {}).items():
            if not _TOKEN.fullmatch(name) or not _HEADER_VALUE.fullmatch(text):
                raise ValueError(f"the header {name!r} is not a valid HTTP header")
        return value

    @property
    def content_type(self) -> str | None:
        found = [
            text for name, text in (self.headers or {}).items() if name.lower() == "content-type"
        ]
        return found[0] if found else None

    def encoded_body(self) -> bytes:
        """The body bytes the inner request carries: JSON as sent, anything else base64."""
        if self.body is None:
            return b""
        content_type = self.content_type
        if content_type is None:
            raise ValueError(f"request '{self.id}' has a body but no Content-Type header")
        if is_json_media_type(content_type):
            if not isinstance(self.body, dict):
                raise ValueError(f"request '{self.id}' must have a JSON object as its body")
            return json.dumps(self.body, ensure_ascii=False).encode()
        if not isinstance(self.body, str):
            raise ValueError(f"request '{self.id}' must have a base64 body for {content_type}")
        try:  # Graph's docs say base64url; the SDKs send standard base64: take either.
            text = self.body.replace("-", "+").replace("_", "/")
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"request '{self.id}' has a body that is not base64") from None

    def inner(self, body: bytes) -> InnerRequest:
        headers = [
            (name.lower().encode("latin-1"), text.encode("latin-1"))
            for name, text in (self.headers or {}).items()
        ]
        return InnerRequest(self.method, self.url, headers, body)


class BatchBody(GraphModel):
    requests: list[BatchRequestItem]

    @field_validator("requests", mode="before")
    @classmethod
    def _at_most_twenty(cls, value: Any) -> Any:
        # Before the items are read, so an oversized batch costs no validation.
        if isinstance(value, list) and not 1 <= len(value) <= MAX_REQUESTS:
            raise ValueError(
                f"a batch holds 1 to {MAX_REQUESTS} requests; this one has {len(value)}"
            )
        return value

    @model_validator(mode="after")
    def _ids_and_dependencies(self) -> BatchBody:
        seen: set[str] = set()
        for item in self.requests:
            key = item.id.casefold()  # Graph: ids are not case-sensitive
            if key in seen:
                raise ValueError(f"the id '{item.id}' is used by more than one request")
            for needed in item.depends_on or ():
                if needed.casefold() not in seen:
                    raise ValueError(
                        f"request '{item.id}' depends on '{needed}', "
                        "which is not an earlier request of this batch"
                    )
            item.encoded_body()  # refuse a bad body before anything runs
            seen.add(key)
        return self


class BatchResponseItem(GraphModel):
    id: str
    status: int
    headers: dict[str, str]
    body: Any = None


class BatchResponseBody(GraphModel):
    responses: list[BatchResponseItem]


@router.post("/$batch", responses={200: {"model": BatchResponseBody}})
async def send_batch(request: Request, batch: BatchBody, _: Sender) -> JSONResponse:
    """Run up to 20 API requests in one call (JSON batching): each is authorized with the
    batch's token and answered with its own status, headers and body. Requests run in the
    order listed; one whose `dependsOn` did not succeed answers 424."""
    # async: the batch waits on its requests, each of which takes a thread of its own.
    if getattr(request.state, IN_BATCH, False):
        raise InvalidInput("nestedBatch")
    version = request.url.path.split("/")[1]
    statuses: dict[str, int] = {}
    responses: list[dict[str, Any]] = []
    for item in batch.requests:
        failed = next(
            (
                needed
                for needed in item.depends_on or ()
                if not 200 <= statuses[needed.casefold()] < 300
            ),
            None,
        )
        if failed is None:
            inner = item.inner(item.encoded_body())
            answer = await dispatch(request.app, request.scope, request.receive, version, inner)
            status, headers, body = answer.status, answer.graph_headers(), answer.graph_body()
        else:
            status, headers = 424, {"Content-Type": "application/json"}
            body = _failed_dependency(request, item.id, failed, statuses[failed.casefold()])
        statuses[item.id.casefold()] = status
        response = {"id": item.id, "status": status, "headers": headers}
        responses.append(response if body is None else {**response, "body": body})
    return JSONResponse({"responses": responses})


def _failed_dependency(request: Request, item_id: str, needed: str, status: int) -> Any:
    """The error body of a request not run because one it depends on failed."""
    answer = error_response(request, "failedDependency", item=item_id, needed=needed, status=status)
    return json.loads(bytes(answer.body))
