"""`openvisit backup FILE` and `openvisit restore [--force] FILE` (see openvisit.backup)."""

from __future__ import annotations

import argparse
from pathlib import Path

from openvisit import backup
from openvisit.files import ensure_private_dir

COMMANDS = ("backup", "restore")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    copy = commands.add_parser(
        "backup",
        help="copy the database into a new FILE, also while the server runs "
        "(PostgreSQL: needs pg_dump)",
    )
    copy.add_argument("file", type=Path)
    restore = commands.add_parser(
        "restore",
        help="replace the database with a backup FILE, then migrate it "
        "(PostgreSQL: needs pg_restore)",
    )
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true", help="replace a database holding data")


def run(args: argparse.Namespace, database_url: str, data_dir: Path) -> int:
    if args.command == "backup":
        backup.backup(database_url, args.file)
        print(f"database backed up to {args.file}")
        return 0
    ensure_private_dir(data_dir)  # a restore may be the first thing a new server does
    backup.restore(database_url, args.file, force=args.force)
    print(f"database restored from {args.file} and migrated to this version")
    return 0
