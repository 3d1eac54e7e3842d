"""Work that must happen only once a write transaction has committed, and never otherwise.

A file removed inside a transaction that later rolls back is gone while its row stays;
removed after the commit, it goes exactly when its row does. Services register such work
with `after_commit(session, action)` while they write; it runs when that session's
transaction commits and is dropped if it rolls back. Registered explicitly at the call
site, as zulip's `on_commit` is, so no write grows hidden side effects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

_PENDING = "openvisit.after_commit"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` after `session`'s transaction commits; drop it if it rolls back."""
    session.info.setdefault(_PENDING, []).append(action)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for action in session.info.pop(_PENDING, ()):
        # The change is committed: a failure here (a file that will not go away) must not
        # turn a done request into an error, so it is logged and the rest still run.
        try:
            action()
        except Exception:
            logger.exception("work after commit failed")


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
