"""How the meetings services tell the real-time hubs what changed: after the commit.

Events (meetings/events.py) go out only once the transaction that made the change has
committed, and never if it rolls back, so a hub that reads on an event reads the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from openvisit.meetings import events
from openvisit.store.after_commit import after_commit

Publish = Callable[[str, str], None]  # (channel, payload), e.g. EventBus.publish_threadsafe


def publish_on_commit(
    session: Session,
    publish: Publish,
    meeting_id: str,
    *meeting_events: events.Event,
    queue_of: Iterable[str] | None = None,
    boards: Iterable[str] = (),
) -> None:
    """Send the events on the meeting's channel once `session` commits (and to the
    `boards` of these staff members); with `queue_of`, also a queue change to the
    meeting and to those providers, whose queues and boards it changes."""
    sends = [(events.meeting_channel(meeting_id), events.encode(e)) for e in meeting_events]
    sends += [
        (events.staff_channel(staff), events.encode(e))
        for staff in dict.fromkeys(boards)
        for e in meeting_events
    ]
    if queue_of is not None:
        changed = events.encode(events.QueueChanged())
        sends.append((events.meeting_channel(meeting_id), changed))
        sends += [(events.staff_channel(staff), changed) for staff in dict.fromkeys(queue_of)]

    def send() -> None:
        for channel, payload in sends:
            publish(channel, payload)

    after_commit(session, send)
