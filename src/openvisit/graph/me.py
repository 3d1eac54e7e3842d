"""/me: the staff user a token acts for (the first administrator when it names none)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from openvisit.auth import access
from openvisit.auth.access import Caller
from openvisit.auth.tokens import me_user_id
from openvisit.auth.users import get_user
from openvisit.graph.deps import Require, RuntimeDep
from openvisit.graph.responses import context_url
from openvisit.graph.schemas.types import GraphModel

router = APIRouter(tags=["user"])


class UserOut(GraphModel):
    id: str
    display_name: str
    mail: str
    user_principal_name: str
    job_title: str


@router.get("/me", responses={200: {"model": UserOut}})
async def get_me(
    request: Request,
    runtime: RuntimeDep,
    caller: Annotated[Caller, Depends(Require(access.ME_READ))],
) -> Any:
    """The user the token acts for, as a Graph `user` (User.Read)."""
    user_id = await run_in_threadpool(me_user_id, runtime.db, caller.principal)
    user = await run_in_threadpool(get_user, runtime.db, user_id)
    return {
        "@odata.context": context_url(request, "users/$entity"),
        "id": user.id,
        "displayName": user.display_name,
        "mail": user.email,
        "userPrincipalName": user.email,
        "jobTitle": user.role,
    }
