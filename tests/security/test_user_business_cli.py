"""`openvisit user create --business` makes a user a member of a business with its role."""

from __future__ import annotations

import pytest

from openvisit.auth.access import find_membership
from openvisit.auth.users import find_user_by_email
from openvisit.cli import main
from openvisit.config import Settings
from openvisit.errors import NotFound
from openvisit.store.db import Database

DEMO_BUSINESS = "contosohealth@openvisit.local"


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    for name in ("OPENVISIT_DATABASE_URL", "OPENVISIT_SECRET_KEY", "OPENVISIT_BUSINESS_ID_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENVISIT_DATA_DIR", str(tmp_path))
    assert main(["demo"]) == 0
    db = Database(Settings().resolved_database_url)
    yield db
    db.dispose()


def _create(email: str, role: str, business: str) -> int:
    return main(["user", "create", "--email", email, "--role", role, "--business", business])


def test_the_user_gets_the_role_in_that_business_only(demo_db, capsys):
    assert _create("Sam@Example.test", "scheduler", DEMO_BUSINESS) == 0

    assert "staff member of contosohealth@openvisit.local (scheduler)" in capsys.readouterr().out
    staff_id, role = find_membership(demo_db, "sam@example.test", DEMO_BUSINESS) or ("", "")
    assert role == "scheduler"
    assert staff_id
    assert find_membership(demo_db, "sam@example.test", "other@openvisit.local") is None


def test_an_unknown_business_creates_no_user(demo_db, capsys):
    assert _create("kim@example.test", "viewer", "nowhere@openvisit.local") == 2

    assert "nowhere@openvisit.local" in capsys.readouterr().err
    with pytest.raises(NotFound):
        find_user_by_email(demo_db, "kim@example.test")
