"""The `openvisit` command: serve, worker, db upgrade, demo, token, user, session, config,
backup, restore.

It reads the same settings as the server, so `openvisit token create` run beside a
server writes to that server's database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from openvisit import __version__, cli_accounts, cli_backup, gc_tuning, logs, startup
from openvisit.bus import choice as bus_choice
from openvisit.clock import SystemClock
from openvisit.config import Settings, resolve_secret_key
from openvisit.files import ensure_private_dir
from openvisit.instance import AlreadyRunningError, single_instance
from openvisit.store.db import Database
from openvisit.store.migrate import upgrade

if TYPE_CHECKING:
    from openvisit.connections import ConnectionLimits
    from openvisit.workers import WorkerOptions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openvisit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"openvisit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate and serve the API and pages")
    serve.add_argument("--host", help="interface to bind (OPENVISIT_HOST)")
    serve.add_argument("--port", type=int, help="port to bind (OPENVISIT_PORT)")
    serve.add_argument(
        "--workers", type=int, help="worker processes, one per core is a start (OPENVISIT_WORKERS)"
    )
    serve.add_argument(
        "--threads", type=int, help="threads per worker for handlers (OPENVISIT_THREADS)"
    )
    serve.add_argument(
        "--demo", action="store_true", help="seed the demo business first if the database is empty"
    )

    worker = commands.add_parser(
        "worker", help="send due notifications (e-mail, SMS) until SIGTERM or SIGINT"
    )
    worker.add_argument("--once", action="store_true", help="send what is due now, then exit")

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")

    commands.add_parser("demo", help="seed the demo business (Contoso Health)")
    commands.add_parser("config", help="print the effective settings, secrets masked")

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token; prints it last")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes",
        required=True,
        help='space-separated Graph permissions, e.g. "Bookings.Read.All"',
    )
    create.add_argument("--user", help="e-mail of the staff user the token acts for (/me)")
    token_commands.add_parser("list", help="list tokens (never their secrets)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id")

    user = commands.add_parser("user", help="staff users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_create = user_commands.add_parser("create", help="create a staff user")
    user_create.add_argument("--email", required=True)
    user_create.add_argument(
        "--role",
        required=True,
        help="administrator, scheduler, teamMember, viewer, externalGuest, guest",
    )
    user_create.add_argument("--password", help="sign-in password (at least 8 characters)")
    user_create.add_argument("--name", help="display name")
    user_create.add_argument(
        "--business",
        help="also add the user to this business as a staff member with --role: how a "
        "user who is no administrator gets access (docs/auth.md#roles)",
    )
    cli_accounts.add_user_commands(user_commands)
    cli_accounts.add_session_commands(commands)
    cli_backup.add_commands(commands)
    return parser


def run() -> None:
    """The `openvisit` command (pyproject's script and `python -m openvisit`)."""
    try:
        code = main()
    finally:  # --help and usage errors leave through SystemExit
        gc_tuning.skip_collecting_at_exit()  # see gc_tuning.py
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure("warning")
    database_url: str | None = None
    try:
        settings = Settings()
        database_url = settings.resolved_database_url
        # Only the long-running `serve` and `worker` log at info by default: a command's
        # output is its own lines, not the migrations it ran on the way.
        quiet = (
            args.command not in ("serve", "worker") and "log_level" not in settings.model_fields_set
        )
        logs.configure("warning" if quiet else settings.log_level, settings.log_format)
        if args.command != "config":
            # `restore` is how a damaged database is replaced, so it may find one.
            startup.check(
                settings.data_dir, settings.database_url, sqlite_file=args.command != "restore"
            )
            # Refuse a weak key before a migration touches the database; `serve` makes
            # the key here if there is none, once, before any worker starts.
            resolve_secret_key(settings, create=args.command == "serve")
        return _run(args, settings)
    except Exception as error:
        # A setting or file a person can fix gets one line naming the variable, exit 2.
        message = startup.explain(error, database_url)
        if isinstance(error, AlreadyRunningError):
            message = str(error)
        if message is None:
            raise
        print(f"openvisit: {message}", file=sys.stderr)
        return 2


def _database(settings: Settings) -> Database:
    ensure_private_dir(settings.data_dir)
    url = settings.resolved_database_url
    upgrade(url)
    return Database(url)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "config":
        print(json.dumps(settings.masked(), indent=2))
        return 0
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "worker":
        return _worker(args, settings)
    if args.command == "db":
        _database(settings).dispose()
        print("database is at the latest revision")
        return 0
    if args.command == "demo":
        return _demo(settings, only_if_empty=False)
    if args.command == "token":
        return _token(args, settings)
    if args.command in cli_backup.COMMANDS:
        return cli_backup.run(args, settings.resolved_database_url, settings.data_dir)
    if args.command == "session":
        return _with_database(settings, lambda db: cli_accounts.run_session(args, db))
    if args.user_command != "create":
        secret_key = resolve_secret_key(settings)
        return _with_database(settings, lambda db: cli_accounts.run_user(args, db, secret_key))
    return _user(args, settings)


def _with_database(settings: Settings, command: Callable[[Database], int]) -> int:
    db = _database(settings)
    try:
        return command(db)
    finally:
        db.dispose()


# `serve` options that override a setting of the same name.
SERVE_OVERRIDES = ("host", "port", "workers", "threads")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    overrides = {name: getattr(args, name) for name in SERVE_OVERRIDES}
    # Validated like the environment, so `--workers 0` fails as OPENVISIT_WORKERS=0 does.
    settings = Settings.model_validate(
        {**settings.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
    )
    # Before anything starts: a visit split over workers that cannot hear each other
    # would leave the consumer in a lobby nobody sees.
    bus_choice.check_workers(settings.resolved_event_bus, settings.workers)
    ensure_private_dir(settings.data_dir)
    # Before migrating: a second server must not touch the database of a running one.
    with single_instance(settings.data_dir, settings.host, settings.port):
        return _serve_alone(args, settings)


def _serve_alone(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn  # noqa: PLC0415 - only `serve` needs the server

    from openvisit import malloc_arenas, telemetry, workers  # noqa: PLC0415
    from openvisit.app import create_app  # noqa: PLC0415 - keeps CLI start-up light

    # This process is the server when there is one worker: tuned as a worker is.
    if settings.workers == 1:
        malloc_arenas.limit_arenas()  # before any thread: see malloc_arenas.py
        gc_tuning.tune_collector()  # see gc_tuning.py
    db = _database(settings)
    try:
        if settings.notifications_in_server:
            from openvisit import delivery  # noqa: PLC0415 - only sending needs it

            delivery.check_transports(settings, db, SystemClock())
    finally:
        db.dispose()
    # Each worker connects its own bus; a Redis that is down is said once, here.
    bus_choice.check_reachable(
        settings.resolved_event_bus,
        redis_url=settings.redis_url,
        database_url=settings.resolved_database_url,
    )
    if args.demo:
        _demo(settings, only_if_empty=True)
    # Once, before any worker starts: workers generating the key at once would each
    # write their own, and a sign-in from one worker would fail on the other.
    resolve_secret_key(settings)
    print(
        f"OpenVisit listening on http://{settings.host}:{settings.port} "
        f"({settings.workers} worker{'s' if settings.workers > 1 else ''}, "
        f"{settings.threads} threads each)",
        flush=True,
    )
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **serve_options(settings))
        return 0
    # Workers are fresh processes that build the app from an import string and read
    # their settings from the environment, so what the command line changed goes there.
    for name in SERVE_OVERRIDES:
        os.environ[f"OPENVISIT_{name.upper()}"] = str(getattr(settings, name))
    if settings.metrics_access.enabled:  # workers sum their figures through this folder
        telemetry.prepare_multiprocess_dir(settings.data_dir / "metrics")
    return workers.serve(worker_options(settings), settings.workers)


# uvicorn's WebSocket options, for every worker. The waiting room holds one idle WebSocket
# per consumer: issue 10 wants 5,000 in one process at <= 30 KB each. Server memory per idle
# connection (KiB of resident memory at 5,000, four runs), measured by
# benchmarks/ws_memory.py with a trivial Starlette endpoint served with these options
# (uvicorn 0.54, websockets 17.4, wsproto 1.3.2; docs/performance.md):
#
#   ws                  deflate off   deflate on
#   websockets-sansio   25.0-25.4     63.5-64.2
#   websockets          32.6-32.8     131-132     (deprecated by uvicorn)
#   wsproto             23.0-23.3     115
#
# Compression is what breaks the budget (zlib keeps a compressor and a decompressor per
# connection), and our messages are a few hundred bytes of JSON where it saves little; SDP,
# the largest, goes once per call. So it is off: browsers offer permessage-deflate and do
# without when the server declines. The implementation is uvicorn's default,
# websockets-sansio: wsproto saves 2 KiB more but is pure Python and one more dependency,
# and sending one update to all 5,000 took the same 0.3-0.8 s with any of the three.
# ws_max_size: a client message (chat, an SDP offer, a device check) is a few KB at most;
# uvicorn's default of 16 MiB would let each of 5,000 clients make the server buffer that.
# ws_ping_interval: the real-time protocol has its own heartbeat (one loop pings every
# connection; the page answers, and a silent one is closed: docs/realtime-protocol.md),
# which also keeps proxies from timing the socket out. uvicorn's protocol-level ping would
# add a timer per connection, and wake-ups, to prove the same thing twice.
WEBSOCKET_OPTIONS: dict[str, Any] = {
    "ws": "websockets-sansio",
    "ws_per_message_deflate": False,
    "ws_max_size": 64 * 1024,
    "ws_ping_interval": None,
    "ws_ping_timeout": None,
}


def connection_limits(settings: Settings) -> ConnectionLimits:
    from openvisit.connections import ConnectionLimits  # noqa: PLC0415 - imports uvicorn

    return ConnectionLimits(
        header_timeout=settings.header_timeout_seconds,
        keepalive_timeout=settings.keepalive_timeout_seconds,
        max_connections=settings.max_connections,
    )


def serve_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments `serve` gives uvicorn.run for one worker process."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "proxy_headers": False,
        # Our handler (openvisit.logs) formats uvicorn's lines; our access log drops the
        # query string's values, which uvicorn's would print.
        "log_config": None,
        "access_log": False,
        **connection_limits(settings).uvicorn_options(),
        **WEBSOCKET_OPTIONS,
    }


def worker_options(settings: Settings) -> WorkerOptions:
    """What `serve --workers N` hands each worker process (the same uvicorn options)."""
    from openvisit.workers import WorkerOptions  # noqa: PLC0415 - imports uvicorn

    return WorkerOptions(
        settings.host,
        settings.port,
        settings.log_level,
        limits=connection_limits(settings),
        websocket=WEBSOCKET_OPTIONS,
    )


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    """Send notifications beside (or instead of) the server's own dispatcher."""
    import anyio  # noqa: PLC0415 - only the worker runs a loop here

    from openvisit import delivery  # noqa: PLC0415 - keeps the other commands light

    url = settings.resolved_database_url
    delivery.check_migrated(url)
    secret = resolve_secret_key(settings, create=False)
    if not secret:
        raise startup.StartupError(
            "No secret key to sign the links in messages: set OPENVISIT_SECRET_KEY to the "
            "server's key, or start `openvisit serve` once with this data folder to make one."
        )
    db = Database(url)
    try:
        delivery.check_transports(settings, db, SystemClock())
        dispatcher = delivery.build_dispatcher(settings, db, SystemClock(), secret_key=secret)
        print(
            f"openvisit worker {dispatcher.worker_id}: sending due notifications "
            f"(e-mail: {settings.email_transport}, SMS: {settings.sms_transport})",
            flush=True,
        )
        anyio.run(lambda: delivery.work(dispatcher, once=args.once))
        print(f"openvisit worker {dispatcher.worker_id}: stopped", flush=True)
    finally:
        db.dispose()
    return 0


def _demo(settings: Settings, *, only_if_empty: bool) -> int:
    from openvisit.demo import demo_exists, is_empty, new_admin_token, seed_demo  # noqa: PLC0415

    domain, base = settings.business_id_domain, settings.public_base_url
    db = _database(settings)
    try:
        if only_if_empty and not is_empty(db):
            return 0
        if demo_exists(db, domain):
            # Seeding twice would add a second business; hand out a new token instead.
            print("The demo business exists already; nothing was added.")
            print(
                f"API:             {base}/v1.0/solutions/bookingBusinesses/contosohealth@{domain}"
            )
            print("New admin API token (all scopes):")
            print(new_admin_token(db, SystemClock(), domain), flush=True)
            return 0
        result = seed_demo(db, SystemClock(), id_domain=domain)
    finally:
        db.dispose()
    print(f"Demo business:   {result.business_id}")
    print(f"API:             {base}/v1.0/solutions/bookingBusinesses/{result.business_id}")
    print(f"API reference:   {base}/docs")
    print(f"Staff sign-in:   {base}/login  ({result.admin_email} / {result.admin_password})")
    if "outbox" in (settings.email_transport, settings.sms_transport):
        # Nothing leaves the server then: this is where a new user sees what was sent.
        print(f"Outbox:          {base}/dev/outbox")
    print("Admin API token (all scopes):")
    print(result.admin_token, flush=True)
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from openvisit.auth import tokens  # noqa: PLC0415

    db = _database(settings)
    try:
        if args.token_command == "create":  # noqa: S105 - a sub-command
            info, secret = tokens.create_token(
                db, SystemClock(), name=args.name, scopes=args.scopes, user_email=args.user
            )
            print(f"token {info.id} ({info.name}) scopes: {' '.join(info.scopes)}")
            print(secret)
        elif args.token_command == "list":  # noqa: S105 - a sub-command
            for item in tokens.list_tokens(db):
                state = f"revoked {item.revoked:%Y-%m-%d}" if item.revoked else "active"
                print(
                    f"{item.id}  {item.prefix}…  {item.name}  [{' '.join(item.scopes)}]  "
                    f"user={item.user_email or '-'}  {state}"
                )
        else:
            tokens.revoke_token(db, SystemClock(), args.token_id)
            print(f"token {args.token_id} revoked")
    finally:
        db.dispose()
    return 0


def _user(args: argparse.Namespace, settings: Settings) -> int:
    from openvisit.bookings import businesses, records  # noqa: PLC0415
    from openvisit.bookings.staff import STAFF_MEMBERS  # noqa: PLC0415
    from openvisit.meetings.staff_users import create_user  # noqa: PLC0415

    db = _database(settings)
    try:
        # Refuse an unknown business before anything is written.
        business = businesses.get_business(db, args.business) if args.business else None
        user = create_user(
            db,
            SystemClock(),
            email=args.email,
            role=args.role,
            password=args.password,
            display_name=args.name,
        )
        print(f"staff user {user.email} ({user.role}) created: {user.id}")
        if business is not None:
            member = records.create_record(
                db,
                SystemClock(),
                STAFF_MEMBERS,
                business.id,
                {"display_name": user.display_name, "email_address": user.email, "role": user.role},
                actor="cli",
            )
            print(f"staff member of {business.id} ({user.role}): {member.id}")
    finally:
        db.dispose()
    return 0
