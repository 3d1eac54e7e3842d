"""This process's connections, and the fan-out of visit events to them.

Services publish small events after commit (meetings/events.py) on `meeting:<id>` and
`staff:<staff member id>`; the bus brings every event to every subscribed process, this
one included. The hub subscribes to a channel while it holds a connection that cares,
reads what changed from the database (once per event and process, never per
connection) and pushes frames to the connections it concerns. Recomputations of queues
and waiting lists are coalesced: a burst of arrivals costs one read and one frame each.

After the bus reconnects (events may have been lost) every connection gets a fresh
snapshot. A participant's newer connection replaces their older one, here or in another
process, which is closed with 4409.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from pydantic import ValidationError

from openvisit.bus.port import EventBus
from openvisit.meetings import board, events, snapshots, waiting
from openvisit.meetings.visits import Presence
from openvisit.realtime import protocol
from openvisit.realtime.connection import Connection, State
from openvisit.realtime.lease import ServerLease
from openvisit.runtime import Runtime

logger = logging.getLogger(__name__)
T = TypeVar("T")
# A queue or waiting list is read at once on its first change, then at most once per this
# long however many changes come: a burst of N arrivals read one by one would cost N
# reads of a queue N long (5,000 arrivals: 12 million rows), and the waiters ahead of
# the arrivals would hear nothing new from all of them.
COALESCE_SECONDS = 0.25
STOP_WAIT_SECONDS = 5.0


class HeartbeatLimits(Protocol):
    """The endpoint's `Limits`, as far as heartbeats go."""

    @property
    def heartbeat_seconds(self) -> float: ...

    @property
    def missed_heartbeats(self) -> int: ...


class Hub:
    def __init__(self, runtime: Runtime, bus: EventBus) -> None:
        self.runtime = runtime
        self.bus = bus
        self.started = False
        self._by_participant: dict[str, Connection] = {}
        self._by_meeting: dict[str, set[Connection]] = defaultdict(set)
        self._lobby_by_staff: dict[str, set[Connection]] = defaultdict(set)
        self._boards: dict[str, set[Connection]] = defaultdict(set)
        self._listeners: dict[str, int] = defaultdict(int)
        self._pending: dict[str, Callable[[], Any]] = {}  # refreshes due when cooled
        self._cooling: dict[str, asyncio.TimerHandle] = {}  # refreshed less than COALESCE ago
        self._start_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._alive: set[Connection] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._heartbeat_every = 20.0
        self._silence_limit = 60.0
        self.lease = ServerLease(runtime, self.publish_threadsafe, self._lease_lost)

    # --- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        async with self._start_lock:
            if not self.started:
                await self.bus.start(self._deliver, self._resync)
                await self.lease.start()
                self.started = True

    async def stop(self) -> None:
        """Stop listening; fan-out already under way finishes first (it holds database
        connections the app is about to close)."""
        for handle in self._cooling.values():
            handle.cancel()
        self._cooling.clear()
        self._pending.clear()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        if self._tasks:
            _done, late = await asyncio.wait(set(self._tasks), timeout=STOP_WAIT_SECONDS)
            for task in late:
                task.cancel()
        if self.started:
            self.started = False
            await self.lease.stop()  # while the bus still carries what it closes
            await self.bus.stop()

    @property
    def connections(self) -> int:
        return len({c for group in self._by_meeting.values() for c in group}) + len(
            {c for group in self._boards.values() for c in group}
        )

    # --- heartbeats -----------------------------------------------------------------

    def keep_alive(self, connection: Connection, limits: HeartbeatLimits) -> None:
        """Ping this connection with all the others, and close it when it falls silent."""
        self._heartbeat_every = limits.heartbeat_seconds
        self._silence_limit = limits.heartbeat_seconds * limits.missed_heartbeats
        self._alive.add(connection)
        if self._heartbeat is None:
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    def forget(self, connection: Connection) -> None:
        self._alive.discard(connection)

    async def _beat(self) -> None:
        """One loop for every connection of this process: a ping each interval (the
        client's pong, or any frame, proves it is there) and 4408 for a silent one."""
        loop = asyncio.get_running_loop()
        try:
            while self._alive:
                await asyncio.sleep(self._heartbeat_every)
                now = loop.time()
                ping = protocol.ServerPing(t=round(now * 1000))
                for connection in list(self._alive):
                    if connection.closing:
                        continue
                    if now - connection.heard_at > self._silence_limit:
                        connection.close(4408, "no heartbeat")
                    else:
                        connection.push(ping)
        finally:
            self._heartbeat = None

    def _lease_lost(self) -> None:
        """This process was taken for dead and its presence rows closed: every page it
        serves reconnects (here or elsewhere) and is placed again, under a new lease."""
        for group in list(self._by_meeting.values()):
            for connection in list(group):
                connection.close(1012, "server restarting")

    # --- registry --------------------------------------------------------------------

    async def register(self, connection: Connection) -> None:
        """Start delivering to a connection placed by `enter` (or a board)."""
        await self.start()
        presence = connection.presence
        if presence is not None:
            older = self._by_participant.get(presence.participant_id)
            if older is not None and older is not connection:
                older.close(4409, "opened elsewhere")
            self._by_participant[presence.participant_id] = connection
            self._by_meeting[presence.meeting_id].add(connection)
            await self._listen(events.meeting_channel(presence.meeting_id))
            if connection.state == State.LOBBY and presence.staff_member_ids:
                self._lobby_by_staff[presence.staff_member_ids[0]].add(connection)
                await self._listen(events.staff_channel(presence.staff_member_ids[0]))
            if connection.state == State.LOBBY:
                self._refresh_queue_of(connection)
        for staff_id in connection.board_staff_ids:
            self._boards[staff_id].add(connection)
            await self._listen(events.staff_channel(staff_id))

    async def unregister(self, connection: Connection) -> None:
        presence = connection.presence
        if presence is not None:
            if self._by_participant.get(presence.participant_id) is connection:
                del self._by_participant[presence.participant_id]
            self._discard(self._by_meeting, presence.meeting_id, connection)
            await self._unlisten(events.meeting_channel(presence.meeting_id))
            self._left_lobby(connection)
        for staff_id in connection.board_staff_ids:
            self._discard(self._boards, staff_id, connection)
            await self._unlisten(events.staff_channel(staff_id))

    async def placed(self, connection: Connection, state: str) -> None:
        """The snapshot read after registering says where they are now (an admission may
        have come between `enter` and `register`)."""
        if state == "call" and connection.state == State.LOBBY:
            self._left_lobby(connection)
            connection.move(State.CALL)

    def _left_lobby(self, connection: Connection) -> None:
        presence = connection.presence
        if presence is None or not presence.staff_member_ids:
            return
        staff_id = presence.staff_member_ids[0]
        if connection in self._lobby_by_staff.get(staff_id, ()):
            self._discard(self._lobby_by_staff, staff_id, connection)
            self._spawn(self._unlisten(events.staff_channel(staff_id)))

    @staticmethod
    def _discard(index: dict[str, set[Connection]], key: str, connection: Connection) -> None:
        group = index.get(key)
        if group is not None:
            group.discard(connection)
            if not group:
                del index[key]

    async def _listen(self, channel: str) -> None:
        self._listeners[channel] += 1
        if self._listeners[channel] == 1:
            await self.bus.subscribe(channel)

    async def _unlisten(self, channel: str) -> None:
        self._listeners[channel] -= 1
        if self._listeners[channel] <= 0:
            del self._listeners[channel]
            await self.bus.unsubscribe(channel)

    # --- publishing ------------------------------------------------------------------

    def publish_threadsafe(self, channel: str, payload: str) -> None:
        """The services' `publish` (they run in worker threads, after commit)."""
        self.bus.publish_threadsafe(channel, payload)

    async def relay_signal(self, sender: Presence, frame: protocol.SignalSend) -> None:
        """A call member's SDP or ICE candidate, to one other member, unchanged."""
        event = events.Signal(
            from_participant_id=sender.participant_id,
            to_participant_id=frame.to,
            description=frame.description.model_dump() if frame.description else None,
            candidate=frame.candidate.model_dump() if frame.candidate else None,
        )
        await self.bus.publish(events.meeting_channel(sender.meeting_id), events.encode(event))

    # --- delivery --------------------------------------------------------------------

    def _deliver(self, channel: str, payload: str) -> None:
        try:
            event = events.decode(payload)
        except ValidationError:
            logger.warning("ignored a malformed event on %s", channel)
            return
        kind, _sep, key = channel.partition(":")
        if kind == "meeting":
            self._on_meeting_event(key, event)
        elif kind == "staff":
            self._on_staff_event(key, event)

    def _on_meeting_event(self, meeting_id: str, event: events.Event) -> None:
        members = self._by_meeting.get(meeting_id, set())
        match event:
            case events.Replaced(participant_id=pid, connection_id=cid):
                current = self._by_participant.get(pid)
                if current is not None and current.connection_id != cid:
                    current.close(4409, "opened elsewhere")
            case events.Signal():
                target = self._by_participant.get(event.to_participant_id)
                if target is not None and target in members and target.state == State.CALL:
                    target.push(
                        protocol.SignalFrame(
                            from_=event.from_participant_id,
                            description=event.description,
                            candidate=event.candidate,
                        )
                    )
            case events.Chat():
                frame = protocol.ChatFrame(message=event.message)
                for member in members:
                    if _may_see(member, event):
                        member.push(frame)
            case events.Admitted(participant_id=pid):
                self._spawn(self._admitted(pid))
            case events.Denied(participant_id=pid, message=message):
                connection = self._by_participant.get(pid)
                if connection is not None and connection.state == State.LOBBY:
                    self._left_lobby(connection)
                    connection.push(protocol.DeniedFrame(message=message))
                    connection.move(State.DENIED)
                    connection.close(4410, "denied")
            case events.Ended():
                for member in list(members):
                    member.push(protocol.EndedFrame())
                    member.close(4410, "ended")
            case events.ParticipantChanged():
                self._spawn(self._participant_changed(meeting_id, event))
            case events.QueueChanged():
                self._coalesce(f"meeting:{meeting_id}", lambda: self._refresh_meeting(meeting_id))

    def _on_staff_event(self, staff_id: str, event: events.Event) -> None:
        if isinstance(event, events.Chat):
            frame = protocol.ChatFrame(message=event.message)
            for connection in self._boards.get(staff_id, ()):
                connection.push(frame)
        elif isinstance(event, events.QueueChanged):
            self._coalesce(f"staff:{staff_id}", lambda: self._refresh_staff(staff_id))

    async def _admitted(self, participant_id: str) -> None:
        connection = self._by_participant.get(participant_id)
        if connection is None or connection.state != State.LOBBY or connection.presence is None:
            return
        self._left_lobby(connection)
        connection.move(State.CALL)
        connection.push(protocol.AdmittedFrame())
        presence = connection.presence
        view = await self._read(
            lambda: snapshots.snapshot(self.runtime.db, self.runtime.clock, presence)
        )
        connection.push(protocol.Snapshot(snapshot=view))

    async def _participant_changed(self, meeting_id: str, event: events.ParticipantChanged) -> None:
        view = await self._read(
            lambda: snapshots.participant(self.runtime.db, event.participant_id)
        )
        if view is None or view["state"] == "lobby":
            return  # waiting people are staff's business: `waiting` frames
        frame = protocol.ParticipantFrame(event=event.event, participant=view)
        for member in self._by_meeting.get(meeting_id, ()):
            if member.state == State.CALL and member.participant_id != event.participant_id:
                member.push(frame)

    def _coalesce(self, key: str, refresh: Callable[[], Any]) -> None:
        """Run `refresh` now, or if `key` was refreshed less than COALESCE_SECONDS ago,
        once when that time is up (however many changes come meanwhile)."""
        if key in self._cooling:
            self._pending[key] = refresh
            return
        self._run_refresh(key, refresh)

    def _run_refresh(self, key: str, refresh: Callable[[], Any]) -> None:
        self._spawn(refresh())
        loop = asyncio.get_running_loop()
        self._cooling[key] = loop.call_later(COALESCE_SECONDS, self._cooled, key)

    def _cooled(self, key: str) -> None:
        del self._cooling[key]
        refresh = self._pending.pop(key, None)
        if refresh is not None:
            self._run_refresh(key, refresh)

    def _refresh_queue_of(self, connection: Connection) -> None:
        """Send this waiter their place: the numbers come from their whole queue's read
        (one for every waiter of it), never from one read per waiter."""
        presence = connection.presence
        if presence is None:
            return
        if presence.staff_member_ids:
            staff_id = presence.staff_member_ids[0]
            self._coalesce(f"staff:{staff_id}", lambda: self._refresh_staff(staff_id))
        else:
            meeting_id = presence.meeting_id
            self._coalesce(f"meeting:{meeting_id}", lambda: self._refresh_meeting(meeting_id))

    async def _refresh_meeting(self, meeting_id: str) -> None:
        members = [m for m in self._by_meeting.get(meeting_id, ()) if not m.closing]
        staff = [m for m in members if m.is_staff and m.state == State.CALL]
        unqueued = [
            m
            for m in members
            if m.state == State.LOBBY and m.presence and not m.presence.staff_member_ids
        ]
        # The waiters first: there are many of them and one staff list; with 5,000 guests
        # reading that list first held every lobby frame back by half a second.
        if unqueued:
            lobbies = await self._read(
                lambda: waiting.queue_of_meeting(self.runtime.db, self.runtime.clock, meeting_id)
            )
            _send_lobbies(unqueued, lobbies)
        if staff:
            waiting_now = await self._read(
                lambda: snapshots.waiting_list(self.runtime.db, self.runtime.clock, [meeting_id])
            )
            for member in staff:
                member.push(protocol.WaitingFrame(waiting=waiting_now))

    async def _refresh_staff(self, staff_id: str) -> None:
        waiters = [c for c in self._lobby_by_staff.get(staff_id, ()) if not c.closing]
        if waiters:
            lobbies = await self._read(
                lambda: waiting.queue_of(self.runtime.db, self.runtime.clock, staff_id)
            )
            _send_lobbies(waiters, lobbies)
        for connection in list(self._boards.get(staff_id, ())):
            await self.send_board(connection)

    async def send_board(self, connection: Connection) -> None:
        user = connection.staff_user
        if user is None:
            return
        day = await self._read(lambda: board.board_for(self.runtime.db, self.runtime.clock, user))
        waiting_now = await self._read(
            lambda: snapshots.waiting_list(self.runtime.db, self.runtime.clock, day.meeting_ids)
        )
        connection.board_meeting_ids = day.meeting_ids
        connection.push(protocol.BoardFrame(board=day.view))
        connection.push(protocol.WaitingFrame(waiting=waiting_now))

    def _resync(self) -> None:
        """The bus was away: events may be lost, so every page gets its state again."""
        for connection in {c for group in self._by_meeting.values() for c in group}:
            self._spawn(self._send_snapshot(connection))
            if connection.state == State.LOBBY:
                connection.last_lobby = None  # a snapshot has no numbers: send them again
                self._refresh_queue_of(connection)
        for connection in {c for group in self._boards.values() for c in group}:
            self._spawn(self.send_board(connection))

    async def _send_snapshot(self, connection: Connection) -> None:
        presence = connection.presence
        if presence is None or connection.closing:
            return
        view = await self._read(
            lambda: snapshots.snapshot(self.runtime.db, self.runtime.clock, presence)
        )
        connection.push(protocol.Snapshot(snapshot=view))

    async def _read(self, read: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(read)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("real-time fan-out failed", exc_info=task.exception())


def _may_see(member: Connection, event: events.Chat) -> bool:
    if member.closing:
        return False
    if event.audience == "call":
        return member.state == State.CALL
    return member.is_staff or member.participant_id == event.lobby_participant_id


def _send_lobbies(connections: Iterable[Connection], lobbies: dict[str, waiting.Lobby]) -> None:
    for connection in connections:
        lobby = lobbies.get(connection.participant_id or "")
        if lobby is None or connection.state != State.LOBBY:
            continue
        # What the waiter sees: a frame goes out when it changes.
        provider = lobby.provider
        key = (
            lobby.position,
            lobby.estimated_wait_seconds,
            provider.get("state"),
            provider.get("lateMinutes"),
            provider.get("message"),
        )
        if key != connection.last_lobby:
            connection.last_lobby = key
            connection.push(protocol.LobbyFrame(**lobby.frame_fields()))
