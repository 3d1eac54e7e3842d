"""Whose online meetings a request reaches: `/me/...` or `/users/{id}/...`.

Graph's rules, as its onlineMeeting pages state them:

- `/me` is the user the token acts for (a token without a user: the first
  administrator, as `/me` itself, see tokens.me_user_id).
- `/users/{id}` with a token acting for a user reaches that same user only (by id or
  e-mail, as Graph takes an id or a userPrincipalName); any other user is refused 403.
- `/users/{id}` with an application token needs the operation's application permission
  (`OnlineMeetings.ReadWrite.All`...), where Graph also wants an application access
  policy: holding that scope is the policy here. An unknown user answers 404.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select

from openvisit.auth import scopes
from openvisit.auth.access import Caller, Operation
from openvisit.auth.tokens import me_user_id
from openvisit.errors import Forbidden, NotFound
from openvisit.store.db import Database
from openvisit.store.models import StaffUser


def acting_user_id(db: Database, caller: Caller, operation: Operation, user: str | None) -> str:
    """The staff user id whose meetings the request reaches; `user` None means `/me`."""
    principal = caller.principal
    if user is None:
        return me_user_id(db, principal)
    if principal.user_id is not None:
        if user.lower() not in {principal.user_id.lower(), (principal.user_email or "").lower()}:
            raise Forbidden("otherUsersMeetings", user=user)
        return principal.user_id
    needed = operation.other_user_scope or operation.scope
    if needed is not None and not scopes.grants(principal.scopes, needed):
        raise Forbidden("scopeMissing", scope=needed)
    return _user_id(db, user)


def _user_id(db: Database, user: str) -> str:
    if "\x00" in user:
        raise NotFound("meetingUserNotFound", user=user)
    with db.read() as session:
        found = session.scalar(
            select(StaffUser.id).where(
                or_(StaffUser.id == user, func.lower(StaffUser.email) == user.lower()),
                StaffUser.is_active.is_(True),
            )
        )
    if found is None:
        raise NotFound("meetingUserNotFound", user=user)
    return found
