"""Documents before the visit (an OpenVisit extension; Graph has no such resource).

- `.../services/{serviceId}/openvisit.documents`: a service's prerequisite documents.
  GET lists them; POST adds one, a file (multipart/form-data with a `file` part and
  optional `displayName` and `description` parts) or a link (JSON `{"displayName",
  "webUrl", "description"}`). `/{documentId}` gets or deletes one, `/{documentId}/$value`
  downloads a file.
- `.../appointments/{appointmentId}/openvisit.documents`: the files its consumer
  uploaded through the manage link, read-only here (list, get, `$value`).

The segment is namespaced `openvisit.` as `openvisit.slotCounts` is. A file's entity
carries OData's media annotations (`@odata.mediaReadLink`, `@odata.mediaContentType`).
Upload bodies may be as large as the configured upload limit (graph/limits.py); a
file's type is read from its content, never from the part's Content-Type or name.
"""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import Field, ValidationError
from starlette.datastructures import FormData, UploadFile

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.bookings import documents
from openvisit.bookings.documents import DocumentView, NewFile, NewLink
from openvisit.downloads import document_response
from openvisit.errors import InvalidInput, UnsupportedMediaType
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.limits import UploadPath
from openvisit.graph.responses import api_root, context_url, quote_key, timestamp
from openvisit.graph.schemas.types import GraphModel, Name, Text, WebUrl

BUSINESSES = "/solutions/bookingBusinesses/{business_id}"
SEGMENT = "openvisit.documents"
SERVICE_DOCUMENTS = f"/services/{{service_id}}/{SEGMENT}"
APPOINTMENT_DOCUMENTS = f"/appointments/{{appointment_id}}/{SEGMENT}"
# The POST that may carry a file, as graph/limits.py matches it (normalized path).
UPLOAD_PATH = UploadPath(
    re.compile(
        r"/(v1\.0|beta)/solutions/bookingBusinesses/[^/]+/services/[^/]+/openvisit\.documents"
    )
)
FORM_FIELDS = 8
FORM_FIELD_BYTES = 16 * 1024

router = APIRouter(prefix=BUSINESSES, tags=["openvisit.document"])
ServiceReader = Annotated[Caller, Depends(Require(access.SERVICE_DOCUMENT_READ))]
ServiceWriter = Annotated[Caller, Depends(Require(access.SERVICE_DOCUMENT_WRITE))]
AppointmentReader = Annotated[Caller, Depends(Require(access.APPOINTMENT_DOCUMENT_READ))]


class DocumentLinkBody(GraphModel):
    display_name: Name
    web_url: WebUrl
    description: Text | None = None


class DocumentFormFields(GraphModel):
    display_name: Name | None = None
    description: Text | None = None


class DocumentOut(GraphModel):
    id: str
    kind: str = Field(description="file or link")
    display_name: str
    description: str | None = None
    web_url: str | None = Field(default=None, description="A link's address (null for a file)")
    content_type: str | None = Field(default=None, description="As read from the content")
    size: int | None = None
    sha256: str | None = Field(default=None, description="Hex SHA-256 of the file")
    uploaded_by: str = Field(description="staff or customer")
    created_date_time: str


class DocumentCollection(GraphModel):
    value: list[DocumentOut]


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "displayName": {"type": "string", "maxLength": 255},
                        "description": {"type": "string", "maxLength": 10_000},
                    },
                }
            },
            "application/json": {"schema": DocumentLinkBody.model_json_schema(by_alias=True)},
        },
    }
}
FILE_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, as an attachment",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


# --- JSON ---------------------------------------------------------------------------------


class Owner:
    """The service or appointment whose documents a request is about."""

    def __init__(self, business_id: str, segment: str, owner_id: str) -> None:
        self.path = f"{BUSINESSES.format(business_id=business_id)}/{segment}/{owner_id}/{SEGMENT}"
        business = f"solutions/bookingBusinesses({quote_key(business_id)})"
        self.entity_set = f"{business}/{segment}({quote_key(owner_id)})/{SEGMENT}"


def document_json(request: Request, owner: Owner, document: DocumentView) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": document.id,
        "kind": document.kind,
        "displayName": document.display_name,
        "description": document.description,
        "webUrl": document.web_url,
        "contentType": document.content_type,
        "size": document.size_bytes,
        "sha256": document.sha256,
        "uploadedBy": document.uploaded_by,
        "createdDateTime": timestamp(document.created_date_time),
    }
    if document.content_type is None:
        return body
    media = {
        "@odata.mediaReadLink": f"{api_root(request)}{owner.path}/{document.id}/$value",
        "@odata.mediaContentType": document.content_type,
    }
    return {**media, **body}


def _collection(request: Request, owner: Owner, found: tuple[DocumentView, ...]) -> Any:
    return {
        "@odata.context": context_url(request, owner.entity_set),
        "value": [document_json(request, owner, document) for document in found],
    }


def _entity(request: Request, owner: Owner, document: DocumentView) -> Any:
    head = {"@odata.context": context_url(request, f"{owner.entity_set}/$entity")}
    return {**head, **document_json(request, owner, document)}


# --- a service's documents ---------------------------------------------------------------


@router.get(SERVICE_DOCUMENTS, responses={200: {"model": DocumentCollection}})
def list_service_documents(
    request: Request, business_id: str, service_id: str, runtime: RuntimeDep, _: ServiceReader
) -> Any:
    """List a service's prerequisite documents, oldest first (OpenVisit extension)."""
    found = documents.list_service_documents(runtime.db, business_id, service_id)
    return _collection(request, Owner(business_id, "services", service_id), found)


@router.post(
    SERVICE_DOCUMENTS,
    status_code=201,
    responses={201: {"model": DocumentOut}},
    openapi_extra=UPLOAD_BODY,
)
async def add_service_document(
    request: Request, business_id: str, service_id: str, runtime: RuntimeDep, caller: ServiceWriter
) -> Any:
    """Add a file (multipart/form-data) or a link (JSON) to a service's documents.

    A file over the upload limit answers 413 (documentTooLarge), one whose content is no
    allowed type 415 (documentTypeNotAllowed), whatever its name or part Content-Type.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        link = _validated(DocumentLinkBody, await request.body())
        new = NewLink(link.display_name, link.web_url, link.description)
        added = await run_in_threadpool(
            documents.add_service_link,
            runtime.db,
            runtime.clock,
            business_id,
            service_id,
            new,
            actor=caller.actor,
        )
    elif media_type == "multipart/form-data":
        form = await request.form(
            max_files=1, max_fields=FORM_FIELDS, max_part_size=FORM_FIELD_BYTES
        )
        try:
            upload = _form_file(form)
            added = await run_in_threadpool(
                documents.add_service_file,
                runtime.db,
                runtime.clock,
                runtime.documents,
                business_id,
                service_id,
                upload,
                actor=caller.actor,
            )
        finally:
            await form.close()
    else:
        raise UnsupportedMediaType("documentBodyUnsupported")
    return _entity(request, Owner(business_id, "services", service_id), added)


def _validated(model: type[DocumentLinkBody], body: bytes) -> DocumentLinkBody:
    try:
        return model.model_validate_json(body or b"null")
    except ValidationError as error:
        raise _invalid(error) from error


def _invalid(error: ValidationError) -> RequestValidationError:
    # The shape FastAPI's own body errors take, so the one handler names the property.
    return RequestValidationError(
        [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
    )


def _form_file(form: FormData) -> NewFile:
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise InvalidInput("documentFileRequired", target="file")
    texts = {
        name: value
        for name in ("displayName", "description")
        if isinstance(value := form.get(name), str) and value != ""
    }
    try:
        fields = DocumentFormFields.model_validate(texts)
    except ValidationError as error:
        raise _invalid(error) from error
    return NewFile(part.file, part.filename, fields.display_name, fields.description)


@router.get(SERVICE_DOCUMENTS + "/{document_id}", responses={200: {"model": DocumentOut}})
def get_service_document(
    request: Request,
    business_id: str,
    service_id: str,
    document_id: str,
    runtime: RuntimeDep,
    _: ServiceReader,
) -> Any:
    """Get one of a service's documents."""
    found = documents.get_service_document(runtime.db, business_id, service_id, document_id)
    return _entity(request, Owner(business_id, "services", service_id), found)


@router.delete(SERVICE_DOCUMENTS + "/{document_id}", status_code=204, response_class=Response)
def delete_service_document(
    business_id: str, service_id: str, document_id: str, runtime: RuntimeDep, caller: ServiceWriter
) -> Response:
    """Delete one of a service's documents (a file also from disk)."""
    documents.delete_service_document(
        runtime.db,
        runtime.clock,
        runtime.documents,
        business_id,
        service_id,
        document_id,
        actor=caller.actor,
    )
    return Response(status_code=204)


@router.get(
    SERVICE_DOCUMENTS + "/{document_id}/$value",
    response_class=StreamingResponse,
    responses=FILE_CONTENT,
)
def download_service_document(
    business_id: str, service_id: str, document_id: str, runtime: RuntimeDep, _: ServiceReader
) -> Response:
    """Download a service document's file (404 documentIsLink for a link)."""
    return document_response(
        documents.open_service_document(
            runtime.db, runtime.documents, business_id, service_id, document_id
        )
    )


# --- an appointment's documents ----------------------------------------------------------


@router.get(APPOINTMENT_DOCUMENTS, responses={200: {"model": DocumentCollection}})
def list_appointment_documents(
    request: Request,
    business_id: str,
    appointment_id: str,
    runtime: RuntimeDep,
    caller: AppointmentReader,
) -> Any:
    """List the files an appointment's consumer uploaded, oldest first."""
    found = documents.list_appointment_documents(
        runtime.db, business_id, appointment_id, own_staff_id=caller.own_staff_id
    )
    return _collection(request, Owner(business_id, "appointments", appointment_id), found)


@router.get(APPOINTMENT_DOCUMENTS + "/{document_id}", responses={200: {"model": DocumentOut}})
def get_appointment_document(
    request: Request,
    business_id: str,
    appointment_id: str,
    document_id: str,
    runtime: RuntimeDep,
    caller: AppointmentReader,
) -> Any:
    """Get one of an appointment's documents."""
    found = documents.get_appointment_document(
        runtime.db, business_id, appointment_id, document_id, own_staff_id=caller.own_staff_id
    )
    return _entity(request, Owner(business_id, "appointments", appointment_id), found)


@router.get(
    APPOINTMENT_DOCUMENTS + "/{document_id}/$value",
    response_class=StreamingResponse,
    responses=FILE_CONTENT,
)
def download_appointment_document(
    business_id: str,
    appointment_id: str,
    document_id: str,
    runtime: RuntimeDep,
    caller: AppointmentReader,
) -> Response:
    """Download a file an appointment's consumer uploaded."""
    content = documents.open_appointment_document(
        runtime.db,
        runtime.documents,
        business_id,
        appointment_id,
        document_id,
        own_staff_id=caller.own_staff_id,
    )
    return document_response(content)
