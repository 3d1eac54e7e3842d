"""Waiting-room scale: N waiting connections on one server process, one queue update.

Seeds one meeting (organised by a staff user) with N guest links, starts the real server
(`openvisit serve`, SQLite), opens N WebSockets that say hello and wait in the lobby,
then the provider posts "running 10 minutes late" and the clock runs until every waiter
has its `lobby` frame saying so. Reports connect time, server memory per waiting
connection (RSS of the server process once the first WARM_UP waiters are in, against after all of
them and after the update) and the update's fan-out time.

Each loopback source address holds at most 40 connections (the server allows 50 per
address), so N connections come from N/40 addresses of 127.0.0.0/8.

Run alone: `.venv/bin/python benchmarks/lobby_fanout.py --waiters 5000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import secrets
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import websockets
from harness import percentile, server

from openvisit.addresses import Client
from openvisit.auth.sessions import SESSION_COOKIE, start_session
from openvisit.clock import SystemClock
from openvisit.join_links import join_token
from openvisit.meetings.staff_users import create_user
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade
from openvisit.store.models import MeetingParticipant, OnlineMeeting

PER_ADDRESS = 40
WARM_UP = 20


def seed(url: str, secret: str, waiters: int) -> tuple[str, str, list[str]]:
    """A meeting starting now with `waiters` guest links; its organiser's cookie."""
    upgrade(url)
    db = Database(url)
    clock = SystemClock()
    now = clock.now()
    user = create_user(
        db, clock, email="host@example.test", role="teamMember", password=None,
        display_name="Host", actor="bench",
    )  # fmt: skip
    meeting_id = str(uuid.uuid4())
    guests = [uuid.uuid4().hex for _ in range(waiters)]
    with db.write() as session:
        session.add(
            OnlineMeeting(
                id=meeting_id, organizer_user_id=user.id, start_date_time=now,
                end_date_time=now + timedelta(hours=1), created_date_time=now, properties={},
            )
        )  # fmt: skip
        session.flush()
        for index, guest in enumerate(guests):
            session.add(
                MeetingParticipant(
                    id=str(uuid.uuid4()), meeting_id=meeting_id, participant_key=f"guest:{guest}",
                    role="guest", display_name=f"Guest {index}", state="invited",
                )
            )  # fmt: skip
        signed_in = start_session(
            session, now, user.id, max_age_seconds=3600, client=Client("127.0.0.1", "bench")
        )
    end = now + timedelta(hours=1)
    tokens = [
        join_token(secret, meeting_id, role="guest", version=0, end=end, guest_id=g) for g in guests
    ]
    db.dispose()
    return meeting_id, signed_in.nonce, tokens


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def waiter(
    ws_url: str, token: str, index: int, ready: asyncio.Event, late: dict[int, float]
) -> websockets.ClientConnection:
    address = f"127.0.{1 + index // PER_ADDRESS // 250}.{1 + index // PER_ADDRESS % 250}"
    connection = await websockets.connect(
        ws_url, local_addr=(address, 0), compression=None, open_timeout=60, max_queue=64
    )
    await connection.send(json.dumps({"type": "hello", "v": 1, "join": token}))
    welcome = json.loads(await connection.recv())
    if welcome.get("snapshot", {}).get("state") != "lobby":
        raise RuntimeError(f"not in the lobby: {welcome}")

    async def listen() -> None:  # reads all along, as a page does
        async for text in connection:
            frame = json.loads(text)
            if frame["type"] == "ping":
                await connection.send(json.dumps({"type": "pong", "t": frame["t"]}))
            if not ready.is_set():
                continue
            if frame["type"] == "lobby" and frame["provider"].get("lateMinutes") == 10:
                late[index] = time.perf_counter()
                return

    listeners.add(asyncio.get_running_loop().create_task(listen()))
    return connection


listeners: set[asyncio.Task[None]] = set()


async def run(
    base: str, pid: int, meeting_id: str, cookie: str, tokens: list[str]
) -> dict[str, float]:
    ws_url = base.replace("http://", "ws://") + "/realtime/v1"
    ready = asyncio.Event()
    late: dict[int, float] = {}
    gate = asyncio.Semaphore(200)

    async def one(index: int, token: str) -> websockets.ClientConnection:
        async with gate:
            return await waiter(ws_url, token, index, ready, late)

    # The first few load every module and cache a connection touches: the baseline.
    connections = await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens[:WARM_UP])))
    await asyncio.sleep(2)
    before = rss_kib(pid)
    started = time.perf_counter()
    rest = enumerate(tokens[WARM_UP:], start=WARM_UP)
    connections += await asyncio.gather(*(one(i, t) for i, t in rest))
    connected = time.perf_counter() - started
    await asyncio.sleep(2)  # let the arrivals' queue updates settle
    after = rss_kib(pid)
    measured = len(tokens) - WARM_UP
    ready.set()
    provider = await websockets.connect(
        ws_url, origin=base, additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},  # type: ignore[arg-type]
        compression=None, max_queue=None, max_size=None,  # the waiting list: ~225 B a waiter
    )  # fmt: skip
    await provider.send(json.dumps({"type": "hello", "v": 1, "meeting": meeting_id}))
    await provider.recv()
    sent = time.perf_counter()
    await provider.send(json.dumps({"type": "providerStatus", "state": "late", "lateMinutes": 10}))
    deadline = sent + 30
    while len(late) < len(tokens) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    delays = sorted(t - sent for t in late.values())
    await asyncio.sleep(1)
    after_update = rss_kib(pid)
    for connection in [*connections, provider]:
        await connection.close()
    return {
        "waiters": len(tokens),
        "reached": len(late),
        "connect_seconds": connected,
        "arrivals_per_second": measured / connected,
        "server_kib_per_waiter": (after - before) / measured,
        "server_kib_per_waiter_after_update": (after_update - before) / measured,
        "fanout_p50_ms": percentile(delays, 0.5) * 1000 if delays else -1,
        "fanout_all_ms": delays[-1] * 1000 if delays else -1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiters", type=int, default=1000)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.waiters * 2 + 1000), hard))
    secret = secrets.token_urlsafe(48)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'fanout.db'}"
        meeting_id, cookie, tokens = seed(url, secret, args.waiters)
        env = {
            "OPENVISIT_SECRET_KEY": secret,
            "OPENVISIT_NOTIFICATIONS_IN_SERVER": "false",
            # WebSockets count against the per-process connection cap (768 by default).
            "OPENVISIT_MAX_CONNECTIONS": str(args.waiters + 100),
        }
        with server(url, Path(folder) / "data", env=env) as served:
            figures = asyncio.run(run(served.base, served.pid, meeting_id, cookie, tokens))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps({"at": stamp, **figures}, indent=2))


if __name__ == "__main__":
    main()
