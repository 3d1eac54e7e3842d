import pytest
from sqlalchemy import select

from openvisit.auth.passwords import MAX_PASSWORD_LENGTH
from openvisit.auth.users import authenticate
from openvisit.errors import Conflict, InvalidInput
from openvisit.meetings.staff_users import create_user
from openvisit.store.models import StaffUser


def test_sign_in_matches_email_loosely_and_password_exactly(runtime):
    create_user(
        runtime.db, runtime.clock, email="Ann@Example.test", role="viewer", password="correct horse"
    )

    assert authenticate(runtime.db, "  ann@example.TEST ", "correct horse") is not None
    assert authenticate(runtime.db, "ann@example.test", "Correct horse") is None
    assert authenticate(runtime.db, "nobody@example.test", "correct horse") is None


def test_passwords_are_stored_as_argon2_hashes(runtime):
    create_user(
        runtime.db, runtime.clock, email="a@example.test", role="viewer", password="correct horse"
    )

    with runtime.db.read() as session:
        stored = session.scalar(select(StaffUser.password_hash))
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


@pytest.mark.parametrize("password", ["short", "x" * (MAX_PASSWORD_LENGTH + 1)])
def test_password_length_is_bounded(runtime, password):
    with pytest.raises(InvalidInput, match="password"):
        create_user(
            runtime.db, runtime.clock, email="a@example.test", role="viewer", password=password
        )
    assert authenticate(runtime.db, "a@example.test", password) is None


def test_one_account_per_email_and_known_roles_only(runtime):
    create_user(runtime.db, runtime.clock, email="a@example.test", role="viewer", password=None)

    with pytest.raises(Conflict):
        create_user(runtime.db, runtime.clock, email="A@example.test", role="viewer", password=None)
    with pytest.raises(InvalidInput, match="role"):
        create_user(runtime.db, runtime.clock, email="b@example.test", role="owner", password=None)


def test_a_user_without_password_cannot_sign_in(runtime):
    create_user(runtime.db, runtime.clock, email="api@example.test", role="viewer", password=None)

    assert authenticate(runtime.db, "api@example.test", "") is None
