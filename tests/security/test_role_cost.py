"""The role check stays off the hot path: one indexed read for a member, none otherwise."""

from __future__ import annotations

from tests.conftest import ALL_SCOPES
from tests.databases import count_statements
from tests.security.test_roles import Clinic


def _membership_reads(statements: list[str]) -> int:
    return sum("staff_members" in sql and "lower(" in sql.lower() for sql in statements)


def test_only_a_member_token_costs_one_membership_read(runtime, client, make_token):
    clinic = Clinic(runtime, client)
    clinic.tokens["application"] = make_token(ALL_SCOPES)
    clinic.tokens["root"] = clinic.user_token("root@example.test", "administrator")
    path = f"{clinic.business}/appointments/{clinic.own['teamMember']}"
    reads = {}
    for who in ("application", "root", "teamMember", "scheduler"):
        assert clinic.request(who, "GET", path).status_code == 200  # the token is now cached
        with count_statements(runtime.db) as statements:
            assert clinic.request(who, "GET", path).status_code == 200
        queries = [sql for sql in statements if not sql.lstrip().upper().startswith("BEGIN")]
        reads[who] = (_membership_reads(queries), len(queries))

    assert {who: count for who, (count, _total) in reads.items()} == {
        "application": 0,
        "root": 0,
        "teamMember": 1,
        "scheduler": 1,
    }
    # Nothing else is added: a member's request sends exactly one query more (on SQLite in
    # a read transaction of its own, hence the BEGIN left out of the count).
    assert reads["teamMember"][1] == reads["application"][1] + 1
