"""Refusals carry a stable reason in `innerError.code`, from one table that docs/errors.md
shows; the top-level `code` stays Graph's."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from string import Formatter

import pytest

from openvisit.bookings import records
from openvisit.bookings.services import SERVICES
from openvisit.errors import Conflict, InvalidInput
from openvisit.reasons import REASONS
from tests.bookings.clinic import make_clinic
from tests.factories import BUSINESSES, make_staff

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(\w+)` \| (\d{3}) \| `(\w+)` \| `(.*)` \|$")
ERROR_CLASSES = {
    "DomainError",
    "InvalidInput",
    "NotFound",
    "Conflict",
    "Unauthenticated",
    "Forbidden",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "RetryLater",
    "TooManyRequests",
    "ServiceBusy",
    "Busy",
    "HashingBusy",
    "WrongCredentials",
}


def _documented() -> dict[str, tuple[int, str, str]]:
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = (ROW.match(line) for line in page.splitlines())
    return {
        row[1]: (int(row[2]), row[3], row[4].replace("\\|", "|")) for row in rows if row is not None
    }


def test_the_docs_list_exactly_the_reasons_of_the_table():
    table = {name: (entry.status, entry.code, entry.template) for name, entry in REASONS.items()}

    assert _documented() == table


def _raise_sites() -> list[tuple[str, str, set[str] | None]]:
    """(where, reason, keyword names or None when ** passes them) of every
    `SomeError("reason", ...)` and `error_response(request, "reason", ...)` in src/."""
    sites = []
    for path in (ROOT / "src" / "openvisit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(
                node.func, ast.Name | ast.Attribute
            ):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            position = {"error_response": 1}.get(name, 0 if name in ERROR_CLASSES else None)
            if position is None or len(node.args) <= position:
                continue
            reason = node.args[position]
            # Words written at the raise site (an f-string or a sum) instead of a reason.
            assert not isinstance(reason, ast.JoinedStr | ast.BinOp), (
                f"{path.name}:{node.lineno}: raise a reason of openvisit/reasons.py"
            )
            if not isinstance(reason, ast.Constant) or not isinstance(reason.value, str):
                continue
            keywords = {keyword.arg for keyword in node.keywords}
            names = None if None in keywords else {str(arg) for arg in keywords}
            sites.append((f"{path.name}:{node.lineno}", reason.value, names))
    return sites


def test_every_error_raised_names_a_reason_of_the_table_and_its_parameters():
    sites = _raise_sites()
    assert len(sites) > 80  # the walk found the raise sites
    for where, reason, keywords in sites:
        assert reason in REASONS, f"{where}: {reason} is not in openvisit/reasons.py"
        if keywords is None:
            continue
        fields = {field for _, field, _, _ in Formatter().parse(REASONS[reason].template) if field}
        given = keywords - {"target", "retry_after_seconds", "headers"}
        assert given == fields, f"{where}: {reason} takes {sorted(fields)}, not {sorted(given)}"


def test_a_reason_raised_under_a_class_of_another_status_fails_at_once():
    with pytest.raises(TypeError, match="slotTaken answers 409: raise it as Conflict"):
        InvalidInput("slotTaken", detail="x")
    assert Conflict("slotTaken", detail="x").message == ("The appointment cannot be booked: x.")


def _refusal(response, status: int, code: str, reason: str) -> str:
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["innerError"]["code"]) == (
        status,
        code,
        reason,
    ), error
    message: str = error["message"]
    return message


@pytest.fixture
def clinic_url(runtime):
    place = make_clinic(runtime)
    return place, f"{BUSINESSES}/{place['business']}"


def _visit(place, start: str, *staff: str) -> dict[str, object]:
    return {
        "serviceId": place["visit"],
        "startDateTime": {"dateTime": start, "timeZone": "UTC"},
        "staffMemberIds": [place[name] for name in staff],
        "customers": [{"name": "Ada"}],
    }


@pytest.mark.parametrize(
    ("start", "reason", "words"),
    [
        ("2026-11-28T15:00:00Z", "outsideWorkingHours", "it is outside working hours"),
        ("2026-11-23T15:00:00Z", "leadTimeNotMet", "minimum lead time"),
        ("2027-01-05T15:00:00Z", "beyondMaximumAdvance", "maximum advance"),
    ],
)
def test_a_refused_booking_names_the_rule(client, auth, clinic_url, start, reason, words):
    place, url = clinic_url

    refused = client.post(f"{url}/appointments", json=_visit(place, start, "ann"), headers=auth)

    message = _refusal(refused, 409, "conflict", reason)
    assert message.startswith("The appointment cannot be booked: Dr. Ann: ")
    assert words in message


def test_a_taken_slot_and_mixed_refusals_have_their_own_reasons(runtime, client, auth, clinic_url):
    place, url = clinic_url
    afternoons = [
        {"day": "tuesday", "timeSlots": [{"startTime": "13:00:00", "endTime": "17:00:00"}]}
    ]
    place["cy"] = make_staff(
        runtime, place["business"], "Dr. Cy", use_business_hours=False, working_hours=afternoons
    )
    staff = {"staff_member_ids": [place["ann"], place["bob"], place["cy"]]}
    records.update_record(
        runtime.db, runtime.clock, SERVICES, place["business"], place["visit"], staff, actor="test"
    )
    tuesday = "2026-11-24T15:00:00Z"  # 10:00 in New York
    first = client.post(f"{url}/appointments", json=_visit(place, tuesday, "ann"), headers=auth)
    assert first.status_code == 201, first.text

    taken = client.post(f"{url}/appointments", json=_visit(place, tuesday, "ann"), headers=auth)
    # Ann is booked, Cy works afternoons only: no one rule explains the refusal.
    mixed = client.post(
        f"{url}/appointments", json=_visit(place, tuesday, "ann", "cy"), headers=auth
    )

    _refusal(taken, 409, "conflict", "slotTaken")
    message = _refusal(mixed, 409, "conflict", "staffUnavailable")
    assert "Dr. Ann: the time is already booked" in message
    assert "Dr. Cy: it is outside working hours" in message


def test_request_and_access_failures_carry_their_reasons(client, auth, make_token, clinic_url):
    place, url = clinic_url
    reader = {"Authorization": f"Bearer {make_token(scopes='Bookings.Read.All')}"}
    cases = [
        (client.get(f"{url}/services?$filter=displayName eq"), 401, "tokenMissing"),
        (client.get(f"{url}/services?$filter=displayName eq", headers=auth), 400, "invalidFilter"),
        (client.get(f"{url}/services?$orderby=nope", headers=auth), 400, "unknownProperty"),
        (client.get(f"{url}/services?$top=x", headers=auth), 400, "notANonNegativeInteger"),
        (client.get(f"{url}/services?$filter=a%00", headers=auth), 400, "nulCharacter"),
        (client.get(f"{BUSINESSES}/nowhere@x.org", headers=auth), 404, "businessNotFound"),
        (client.get(f"{url}/services/none", headers=auth), 404, "recordNotFound"),
        (client.get("/v1.0/nothing/here", headers=auth), 404, "pathNotFound"),
        (client.delete(f"{url}/calendarView", headers=auth), 405, "methodNotAllowed"),
        (client.post(f"{url}/customers", json={}, headers=reader), 403, "scopeMissing"),
        (
            client.post(
                f"{url}/customers",
                content=b"{",
                headers={**auth, "content-type": "application/json"},
            ),
            400,
            "invalidJson",
        ),
        (client.post(f"{url}/customers", json={}, headers=auth), 400, "propertyRequired"),
        (
            client.post(f"{url}/appointments", json={"serviceId": "none"}, headers=auth),
            400,
            "propertyRequired",
        ),
        (
            client.post(f"{url}/appointments", json=_visit(place, "x", "ann"), headers=auth),
            400,
            "invalidProperty",
        ),
    ]
    for response, status, reason in cases:
        _refusal(response, status, REASONS[reason].code, reason)
