"""`openvisit user list|set-password|disable` and `openvisit session list|revoke`.

Kept apart from cli.py so the account commands read as one piece; cli.py adds the parsers
and hands over the parsed arguments and an open database.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from openvisit.auth import accounts, sessions
from openvisit.auth.users import find_user_by_email
from openvisit.clock import SystemClock
from openvisit.errors import InvalidInput
from openvisit.store.db import Database


def add_user_commands(user_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user_commands.add_parser("list", help="list staff users: e-mail, role, state")
    set_password = user_commands.add_parser(
        "set-password",
        help="set a user's password and end their sessions (also lifts a sign-in lock)",
        description=(
            "Reads the new password from --password, else from standard input when it is "
            "not a terminal (one line), else from a prompt."
        ),
    )
    set_password.add_argument("email")
    set_password.add_argument("--password", help="the new password (visible in `ps`; prefer stdin)")
    disable = user_commands.add_parser(
        "disable", help="deactivate a user and revoke their sessions and API tokens"
    )
    disable.add_argument("email")


def add_session_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    session = commands.add_parser("session", help="staff sign-in sessions")
    session_commands = session.add_subparsers(dest="session_command", required=True)
    listing = session_commands.add_parser("list", help="list live sessions (never their secrets)")
    listing.add_argument("--user", help="only this user's sessions (e-mail)")
    listing.add_argument("--all", action="store_true", help="include revoked and expired ones")
    revoke = session_commands.add_parser("revoke", help="revoke one session, or all of a user's")
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("session_id", nargs="?", help="the session id `session list` shows")
    target.add_argument("--user", help="revoke every session of this user (e-mail)")


def run_user(
    args: argparse.Namespace, db: Database, secret_key: str, stdin: TextIO | None = None
) -> int:
    """The user sub-commands other than `create`."""
    clock = SystemClock()
    if args.user_command == "list":
        for user in accounts.list_users(db):
            state = "active" if user.is_active else "disabled"
            password = "" if user.has_password else "  (no password)"
            print(f"{user.id}  {user.email}  {user.role}  {state}{password}")
        return 0
    if args.user_command == "set-password":
        password = args.password
        if password is None:
            password = _read_password(stdin or sys.stdin)
        revoked = accounts.set_password(db, clock, args.email, password, secret_key=secret_key)
        print(f"password of {args.email} set; {revoked.sessions} session(s) ended")
        return 0
    revoked = accounts.disable_user(db, clock, args.email)
    print(
        f"staff user {args.email} disabled; {revoked.sessions} session(s) and "
        f"{revoked.tokens} token(s) revoked"
    )
    return 0


def run_session(args: argparse.Namespace, db: Database) -> int:
    clock = SystemClock()
    if args.session_command == "list":
        user_id = find_user_by_email(db, args.user).id if args.user else None
        now = clock.now()
        for item in sessions.list_sessions(db, clock, user_id=user_id, include_ended=args.all):
            print(
                f"{item.id}  {item.user_email}  {item.state(now)}  "
                f"from {item.client_address or '-'}  started {item.created:%Y-%m-%d %H:%M}Z  "
                f"last seen {item.last_seen:%Y-%m-%d %H:%M}Z  "
                f"ends {item.expires:%Y-%m-%d %H:%M}Z  {item.user_agent or '-'}"
            )
        return 0
    if args.user:
        user = find_user_by_email(db, args.user)
        count = sessions.revoke_sessions_of(db, clock, user.id)
        print(f"{count} session(s) of {user.email} revoked")
        return 0
    sessions.revoke_session(db, clock, args.session_id)
    print(f"session {args.session_id} revoked")
    return 0


def _read_password(stdin: TextIO) -> str:
    if not stdin.isatty():
        line = stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise InvalidInput("passwordMissing", target="password")
        return password
    password = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise InvalidInput("passwordsDiffer", target="password")
    return password
