"""One router shape for the resources inside a business (services, staff, customers,
custom questions): list, create, get, update, delete with Graph's status codes.

No `from __future__ import annotations` here: FastAPI reads the closures' annotations
at runtime, and they refer to the resource's own body model.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from openvisit.auth.access import Caller, Operation, check_own_staff_change
from openvisit.bookings import records
from openvisit.bookings.records import ResourceKind
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.odata import (
    collection,
    count_response,
    parse_options,
    select_properties,
)
from openvisit.graph.responses import context_url, quote_key

BUSINESSES = "/solutions/bookingBusinesses/{business_id}"


@dataclass(frozen=True)
class ChildApi:
    kind: ResourceKind[Any, Any]
    segment: str  # path segment and entity set name, e.g. "staffMembers"
    tag: str
    odata_type: str | None  # set where v1.0 types the set as an abstract base
    body_model: type[BaseModel]
    out_model: type[BaseModel]
    collection_model: type[BaseModel]
    to_json: Callable[[Any, Request], dict[str, Any]]
    to_changes: Callable[[Any, bool], dict[str, Any]]  # (body, creating) -> column changes
    read_operation: Operation
    write_operation: Operation
    # Where updating differs from creating and deleting (a team member edits their own
    # staff member's schedule), else write_operation.
    update_operation: Operation | None = None
    update_returns_body: bool = False  # customers and custom questions answer 200 + entity


def _update_shape(api: ChildApi) -> dict[str, Any]:
    if api.update_returns_body:
        return {"status_code": 200, "responses": {200: {"model": api.out_model}}}
    return {"status_code": 204, "response_class": Response, "response_model": None}


def child_router(api: ChildApi) -> APIRouter:
    router = APIRouter(prefix=f"{BUSINESSES}/{api.segment}", tags=[api.tag])
    Reader = Annotated[Caller, Depends(Require(api.read_operation))]
    Writer = Annotated[Caller, Depends(Require(api.write_operation))]
    Updater = Annotated[Caller, Depends(Require(api.update_operation or api.write_operation))]
    Body = api.body_model

    def entity_set(business_id: str) -> str:
        return f"solutions/bookingBusinesses({quote_key(business_id)})/{api.segment}"

    def entity(request: Request, business_id: str, record: Any) -> dict[str, Any]:
        head: dict[str, Any] = {
            "@odata.context": context_url(request, f"{entity_set(business_id)}/$entity")
        }
        if api.odata_type:
            head["@odata.type"] = api.odata_type
        return {**head, **api.to_json(record, request)}

    def member(request: Request, record: Any) -> dict[str, Any]:
        head = {"@odata.type": api.odata_type} if api.odata_type else {}
        return {**head, **api.to_json(record, request)}

    @router.get(
        "",
        responses={200: {"model": api.collection_model}},
        name=f"list_{api.segment}",
        summary=f"List {api.segment}",
    )
    def list_children(request: Request, business_id: str, runtime: RuntimeDep, _: Reader) -> Any:
        options = parse_options(request)
        page = records.list_records(
            runtime.db, api.kind, business_id, options.query, page_size=runtime.page_size
        )
        values = [member(request, record) for record in page.items]
        return collection(
            request, context_url(request, entity_set(business_id)), page, values, options
        )

    @router.post(
        "",
        status_code=201,
        responses={201: {"model": api.out_model}},
        name=f"create_{api.segment}",
        summary=f"Create a {api.kind.label}",
    )
    def create_child(
        request: Request,
        business_id: str,
        body: Body,  # type: ignore[valid-type]
        runtime: RuntimeDep,
        caller: Writer,
    ) -> Any:
        changes = api.to_changes(body, True)
        record = records.create_record(
            runtime.db, runtime.clock, api.kind, business_id, changes, actor=caller.actor
        )
        return entity(request, business_id, record)

    @router.get(
        "/$count",
        response_class=PlainTextResponse,
        name=f"count_{api.segment}",
        summary=f"Count {api.segment} ($filter applies)",
    )
    def count_children(
        request: Request, business_id: str, runtime: RuntimeDep, _: Reader
    ) -> PlainTextResponse:
        return count_response(
            request,
            lambda query: records.list_records(
                runtime.db, api.kind, business_id, query, page_size=1
            ),
        )

    @router.get(
        "/{record_id}",
        responses={200: {"model": api.out_model}},
        name=f"get_{api.segment}",
        summary=f"Get a {api.kind.label}",
    )
    def get_child(
        request: Request, business_id: str, record_id: str, runtime: RuntimeDep, _: Reader
    ) -> Any:
        options = parse_options(request)
        record = records.get_record(runtime.db, api.kind, business_id, record_id)
        return select_properties(entity(request, business_id, record), options.select)

    @router.patch(
        "/{record_id}",
        name=f"update_{api.segment}",
        summary=f"Update a {api.kind.label}",
        **_update_shape(api),
    )
    def update_child(
        request: Request,
        business_id: str,
        record_id: str,
        body: Body,  # type: ignore[valid-type]
        runtime: RuntimeDep,
        caller: Updater,
    ) -> Any:
        changes = api.to_changes(body, False)
        check_own_staff_change(caller, record_id, set(changes))
        record = records.update_record(
            runtime.db, runtime.clock, api.kind, business_id, record_id, changes, actor=caller.actor
        )
        if api.update_returns_body:
            return entity(request, business_id, record)
        return Response(status_code=204)

    @router.delete(
        "/{record_id}",
        status_code=204,
        response_class=Response,
        name=f"delete_{api.segment}",
        summary=f"Delete a {api.kind.label}",
    )
    def delete_child(
        business_id: str, record_id: str, runtime: RuntimeDep, caller: Writer
    ) -> Response:
        records.delete_record(
            runtime.db,
            runtime.clock,
            api.kind,
            business_id,
            record_id,
            actor=caller.actor,
            documents=runtime.documents,
        )
        return Response(status_code=204)

    return router
