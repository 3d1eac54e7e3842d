"""The docs keep up with the code: every setting is documented, the README opens with the
two commands, and the README's links to docs/ point at files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openvisit.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
OPERATIONS = ROOT / "docs" / "operations.md"

README_OPENING = [
    "```sh",
    "./scripts/run    # install what is missing, migrate, seed a demo business, serve on "
    "http://127.0.0.1:8000",
    "./scripts/test   # install what is missing (Python deps, PostgreSQL, Debian's chromium, "
    "nginx and coturn) and run every test",
    "```",
]


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_operations_documents_every_setting(field):
    variable = f"OPENVISIT_{field.upper()}"

    assert f"`{variable}`" in OPERATIONS.read_text(encoding="utf-8"), (
        f"docs/operations.md does not mention {variable}"
    )


def test_readme_opens_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    title, *rest = lines
    opening = [line for line in rest if line.strip()][: len(README_OPENING)]

    assert title.startswith("# ")
    assert opening == README_OPENING


def test_readme_links_to_existing_docs():
    links = re.findall(r"\]\((docs/[^)#\s]+\.md)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))

    assert links, "README.md links to no docs/*.md page"
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert not missing, f"README.md links to missing files: {missing}"
