"""Server memory per idle WebSocket connection, for each uvicorn WebSocket implementation.

The waiting room holds one WebSocket per consumer; issue 10 wants one server process to
hold 5,000 of them at no more than 30 KB of server memory each. This serves a trivial
Starlette WebSocket endpoint with uvicorn exactly as `openvisit serve` runs one worker
(`openvisit.cli.serve_options`: the guarded HTTP protocol, timeouts, no access log),
changing only `ws` and `ws_per_message_deflate`, and for each of those:

1. starts the server in a subprocess and opens and closes a few connections (so every
   module and buffer pool a connection uses is loaded), then reads its resident memory;
2. opens idle connections from this process in steps up to each count (each gets a
   ~300-byte welcome, as the lobby's is, so a compressor has done its first work), waits
   for the memory to settle and reads it again;
3. broadcasts a ~300-byte queue update to every connection and times until all of them
   have it (the issue's "a queue update reaching all 5,000 within 1 s"), five times: the
   median of the time this process saw, and of the server's own loop over its sockets
   (this single client process decoding 5,000 frames is part of the first);
4. closes everything.

Per connection = (resident memory at N - baseline) / N, and "marginal" is the slope
between the two counts. The client offers permessage-deflate only where the server
would accept it, as browsers always offer it.

    .venv/bin/python benchmarks/ws_memory.py [--counts 2000 5000] [--impls wsproto ...]

Loopback only; the whole run takes about two minutes on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

IMPLEMENTATIONS = ("websockets-sansio", "websockets", "wsproto")
DEFAULT_COUNTS = (2000, 5000)
CONNECT_CONCURRENCY = 200
SETTLE_SECONDS = 3.0
START_TIMEOUT = 60.0
BROADCASTS = 5
# A lobby welcome and a queue update are a few hundred bytes of JSON.
WELCOME = json.dumps(
    {
        "type": "welcome",
        "seq": 1,
        "v": 1,
        "connectionId": "c_0123456789abcdef",
        "heartbeatSeconds": 20,
        "you": {"participantId": "p_0123456789", "role": "consumer", "displayName": "Ada"},
        "snapshot": {"state": "lobby", "lobby": {"position": 3, "queueLength": 7}},
    }
)
UPDATE = json.dumps(
    {
        "type": "lobby",
        "seq": 2,
        "lobby": {
            "position": 2,
            "queueLength": 6,
            "estimatedWaitSeconds": 420,
            "provider": {"state": "late", "lateMinutes": 10, "message": "Running late"},
        },
    }
)


@dataclass
class Result:
    implementation: str
    deflate: bool
    baseline_kib: float
    rss_kib: dict[int, float] = field(default_factory=dict)
    broadcast_seconds: float = float("nan")
    server_send_seconds: float = float("nan")

    def per_connection_kib(self, count: int) -> float:
        return (self.rss_kib[count] - self.baseline_kib) / count

    def marginal_kib(self) -> float:
        points = sorted(self.rss_kib.items())
        (low, low_rss), (high, high_rss) = points[0], points[-1]
        return (high_rss - low_rss) / (high - low) if high > low else float("nan")


# --- the server (a subprocess: `ws_memory.py --serve PORT IMPL DEFLATE`) ----------------


def serve(port: int, implementation: str, deflate: bool) -> None:
    import uvicorn  # noqa: PLC0415 - only the server process needs it
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import JSONResponse  # noqa: PLC0415
    from starlette.routing import Route, WebSocketRoute  # noqa: PLC0415
    from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: PLC0415

    from openvisit.cli import serve_options  # noqa: PLC0415
    from openvisit.config import Settings  # noqa: PLC0415

    connected: set[WebSocket] = set()

    async def waiting_room(websocket: WebSocket) -> None:
        await websocket.accept()
        connected.add(websocket)
        try:
            await websocket.send_text(WELCOME)
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            connected.discard(websocket)

    async def broadcast(_request: Request) -> JSONResponse:
        started = time.perf_counter()
        for websocket in list(connected):
            await websocket.send_text(UPDATE)
        return JSONResponse({"sent": len(connected), "seconds": time.perf_counter() - started})

    async def count(_request: Request) -> JSONResponse:
        return JSONResponse({"connected": len(connected)})

    app = Starlette(
        routes=[
            WebSocketRoute("/ws", waiting_room),
            Route("/broadcast", broadcast, methods=["POST"]),
            Route("/count", count),
        ]
    )
    # serve's defaults, so the connection cap (10,000 per worker) holds every connection.
    settings = Settings(host="127.0.0.1", port=port, log_level="warning")
    options = serve_options(settings)
    options.update(ws=implementation, ws_per_message_deflate=deflate, backlog=4096)
    uvicorn.run(app, **options)


# --- the client and the measurements (this process) ------------------------------------


def raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def wait_until_serving(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                await client.get(f"{base}/count")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def open_connections(url: str, count: int, deflate: bool) -> list[ClientConnection]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> ClientConnection:
        async with gate:
            connection = await connect(
                url,
                compression="deflate" if deflate else None,
                open_timeout=60,
                ping_interval=None,
                max_queue=4,
            )
            await connection.recv()  # the welcome
            return connection

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def settle(pid: int) -> float:
    """Resident memory once two readings a second apart agree within 1%."""
    await asyncio.sleep(SETTLE_SECONDS)
    previous = rss_kib(pid)
    for _attempt in range(10):
        await asyncio.sleep(1.0)
        current = rss_kib(pid)
        if abs(current - previous) <= 0.01 * previous:
            return current
        previous = current
    return previous


async def time_broadcast(base: str, connections: Sequence[ClientConnection]) -> tuple[float, float]:
    """Median seconds until every connection had an update, and of the server's send loop."""
    seen, sent = [], []
    async with httpx.AsyncClient(timeout=60) as client:
        for _round in range(BROADCASTS):
            started = time.perf_counter()
            receipts = asyncio.gather(*(connection.recv() for connection in connections))
            answer = (await client.post(f"{base}/broadcast")).json()
            await receipts
            seen.append(time.perf_counter() - started)
            sent.append(float(answer["seconds"]))
    return statistics.median(seen), statistics.median(sent)


async def close_all(connections: Sequence[ClientConnection]) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY * 5)

    async def one(connection: ClientConnection) -> None:
        async with gate:
            await connection.close()

    await asyncio.gather(*(one(connection) for connection in connections))


async def measure(implementation: str, deflate: bool, counts: Sequence[int]) -> Result:
    port = free_port()
    base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    command = [sys.executable, __file__, "--serve", str(port), implementation, str(int(deflate))]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 - our own script
    connections: list[ClientConnection] = []
    try:
        await wait_until_serving(base, process)
        await close_all(await open_connections(url, 20, deflate))
        result = Result(implementation, deflate, baseline_kib=await settle(process.pid))
        for count in sorted(counts):
            connections += await open_connections(url, count - len(connections), deflate)
            result.rss_kib[count] = await settle(process.pid)
        result.broadcast_seconds, result.server_send_seconds = await time_broadcast(
            base, connections
        )
        return result
    finally:
        await close_all(connections)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def report(results: Sequence[Result], counts: Sequence[int]) -> None:
    top = max(counts)
    print(f"\nuvicorn WebSocket connections, idle, server resident memory ({os.cpu_count()} cores)")
    header = "| ws | per-message-deflate | baseline MiB |"
    header += "".join(f" KiB each at {count:,} |" for count in sorted(counts))
    header += f" marginal KiB | update reaches {top:,} (server send), median of {BROADCASTS} |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in results:
        cells = [r.implementation, "on" if r.deflate else "off", f"{r.baseline_kib / 1024:.0f}"]
        cells += [f"{r.per_connection_kib(count):.1f}" for count in sorted(counts)]
        cells += [f"{r.marginal_kib():.1f}"]
        cells += [f"{r.broadcast_seconds * 1000:.0f} ms ({r.server_send_seconds * 1000:.0f} ms)"]
        print("| " + " | ".join(cells) + " |")


async def main(implementations: Sequence[str], counts: Sequence[int]) -> None:
    results = []
    for implementation in implementations:
        for deflate in (False, True):
            result = await measure(implementation, deflate, counts)
            print(
                f"{implementation} deflate={'on' if deflate else 'off'}: "
                f"{result.per_connection_kib(max(counts)):.1f} KiB each",
                flush=True,
            )
            results.append(result)
    report(results, counts)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1")
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=list(DEFAULT_COUNTS))
    parser.add_argument("--impls", nargs="+", choices=IMPLEMENTATIONS, default=IMPLEMENTATIONS)
    arguments = parser.parse_args()
    if not 1 <= len(arguments.counts) <= 3 or max(arguments.counts) > 10_000:
        parser.error("give one to three counts of at most 10,000")
    raise_file_limit()
    asyncio.run(main(arguments.impls, arguments.counts))
