"""Schema-driven fuzzing: every /v1.0 operation in the app's own OpenAPI document, with
generated valid and invalid input, must never answer 5xx, and every 4xx it gives must be
in Graph's error envelope.

Schemathesis drives the real server over HTTP (tests/live.py). The `app` fixture is
function-scoped and parametrized per backend, so the schema is loaded inside the test and
each operation's cases are run with Hypothesis' `@given` over `operation.as_strategy()`.
Path parameters are generated, or (in about half the cases) point at a seeded business
and its records, so the handlers past the "not found" check are reached too. The `/beta`
mirror is served by the same code and is left out.

Budget (docs/development.md#schema-fuzz): by default a fixed, reproducible number of cases
per operation and mode, and a wall-clock cap per backend that only a loaded machine
reaches; `--fuzz-examples` and `--fuzz-seconds` run a longer, randomized fuzz.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

from openvisit.bookings.appointments import AppointmentRequest, book
from openvisit.bookings.authority import Authority
from openvisit.meetings.staff_users import create_user
from openvisit.runtime import Runtime
from tests.factories import make_business, make_customer, make_question, make_service, make_staff
from tests.live import serve

pytestmark = pytest.mark.live

Operation = APIOperation[Any, Any, Any, Any]
# The default budget: its share of ./scripts/test stays small and fixed (measured in
# docs/development.md). Cases per operation and generation mode; seconds per backend.
DEFAULT_EXAMPLES = 10
DEFAULT_SECONDS = 30.0
RECORD_SEGMENTS = ("services", "staffMembers", "customers", "customQuestions")
# Graph's query options: the handlers read them from the query string, so FastAPI's
# document does not list them. Declared here as free strings so the fuzzer sends them.
ODATA_OPTIONS = ("$filter", "$orderby", "$select", "$top", "$skip", "$count")


@dataclass(frozen=True)
class FuzzBudget:
    examples: int  # at most, per operation and generation mode
    seconds: float  # per backend; 0 means no cap
    randomized: bool  # fresh input each run (a long local fuzz) instead of the fixed set


@pytest.fixture
def fuzz_budget(request: pytest.FixtureRequest) -> FuzzBudget:
    examples: int | None = request.config.getoption("fuzz_examples")
    seconds: float | None = request.config.getoption("fuzz_seconds")
    if examples is None and seconds is None:
        return FuzzBudget(DEFAULT_EXAMPLES, DEFAULT_SECONDS, randomized=False)
    return FuzzBudget(
        examples if examples is not None else DEFAULT_EXAMPLES,
        seconds if seconds is not None else 0.0,
        randomized=True,
    )


def _with_query_options(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or "bookingCurrencies" in path or path.endswith("/me"):
            continue
        names = list(ODATA_OPTIONS)
        if path.endswith("/bookingBusinesses"):
            names.append("query")  # Graph's search parameter for businesses
        get.setdefault("parameters", []).extend(
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in names
        )
    return spec


def _loaded(result: Ok[Operation] | Err[InvalidSchema]) -> Operation:
    """An operation of the document; the app's own document must load whole."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def _seed(runtime: Runtime) -> dict[str, str]:
    """A business with one record of each kind; fresh per run since DELETE may remove it."""
    business = make_business(runtime, "Fuzz Clinic")
    seeded = {
        "business_id": business,
        "currency_id": "USD",
        "services": make_service(runtime, business),
        "staffMembers": make_staff(runtime, business),
        "customers": make_customer(runtime, business),
        "customQuestions": make_question(runtime, business),
    }
    # Something for /me to be, and an appointment for the appointment-by-id operations.
    create_user(
        runtime.db,
        runtime.clock,
        email=f"admin-{uuid.uuid4().hex[:8]}@example.test",
        role="administrator",
        password=None,
    )
    request = AppointmentRequest(
        service_id=seeded["services"],
        start=runtime.clock.now() + timedelta(days=1),
        staff_ids=(seeded["staffMembers"],),
    )
    seeded["appointment_id"] = book(
        runtime.db,
        runtime.clock,
        business,
        request,
        authority=Authority("fuzz", override_hours=True),
    ).id
    return seeded


def _real_path_parameters(path: str, seeded: dict[str, str]) -> dict[str, str]:
    values = {
        name: seeded[name]
        for name in ("business_id", "currency_id", "appointment_id")
        if f"{{{name}}}" in path
    }
    for segment in RECORD_SEGMENTS:
        if f"/{segment}/{{record_id}}" in path:
            values["record_id"] = seeded[segment]
    return values


def _assert_graph_error(response: Response, label: str) -> None:
    if response.status_code < 400:
        return
    error = response.json()["error"]
    assert error["code"], label
    assert error["message"], label
    assert error["innerError"]["request-id"], label
    assert error["innerError"]["date"], label


class Schedule:
    """Spreads the wall-clock budget over the runs (one per operation and mode).

    The n-th of N runs should end by start + n/N of the budget, so time a quick run leaves
    over goes to the next ones. Each run is a Hypothesis run of its own, so its size is set
    before it starts, from the time a case has taken so far; every run gets one case.
    Only a machine much slower than the budget assumes (a loaded one) trims runs.
    """

    def __init__(self, budget: FuzzBudget, runs: int) -> None:
        self.budget, self.runs = budget, runs
        self.start = time.monotonic()
        self.cases = 0
        self.trimmed = 0  # runs given fewer cases than the budget's count

    def examples(self, number: int) -> int:
        if not self.budget.seconds or not self.cases:
            return self.budget.examples
        now = time.monotonic()
        per_case = (now - self.start) / self.cases
        left = self.start + self.budget.seconds * number / self.runs - now
        examples = max(1, min(self.budget.examples, int(left / per_case)))
        self.trimmed += examples < self.budget.examples
        return examples


def _run(
    strategy: st.SearchStrategy[Case[Operation]],
    budget: FuzzBudget,
    examples: int,
    call: Callable[[Case[Operation]], None],
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=not budget.randomized,
        print_blob=budget.randomized,
        database=None,
        # No explain phase: it re-runs a failing case many times to annotate it.
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(case=strategy)
    def check(case: Case[Operation]) -> None:
        call(case)

    check()


def test_no_operation_answers_5xx(app, runtime, make_token, fuzz_budget: FuzzBudget):
    headers = {"Authorization": f"Bearer {make_token()}"}
    failures: list[str] = []
    seen: Counter[tuple[str, int]] = Counter()  # (operation, status class) -> responses
    with serve(app) as base_url, requests.Session() as session:

        def call(case: Case[Operation]) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            _assert_graph_error(response, f"{case.operation.label}: {response.text}")
            seen[case.operation.label, response.status_code // 100] += 1
            schedule.cases += 1

        spec = session.get(f"{base_url}/openapi.json", timeout=10).json()
        schema = schemathesis.openapi.from_dict(
            _with_query_options(spec), config=schemathesis.Config()
        ).include(path_regex=r"^/v1\.0/")
        operations = [_loaded(result) for result in schema.get_all_operations()]
        assert len(operations) >= 30

        # Negating a free-form string path or query parameter is impossible; only a
        # request body gives the negative mode something to break.
        runs = [
            (operation, mode)
            for operation in operations
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            if mode is GenerationMode.POSITIVE or operation.body
        ]
        schedule = Schedule(fuzz_budget, len(runs))
        for number, (operation, mode) in enumerate(runs, start=1):
            real = _real_path_parameters(operation.path, _seed(runtime))
            strategy = st.one_of(
                operation.as_strategy(mode, headers=headers),
                operation.as_strategy(mode, headers=headers, path_parameters=real),
            )
            try:
                _run(strategy, fuzz_budget, schedule.examples(number), call)
            except Exception as error:  # collect every operation's failure, then report
                failures.append(f"{operation.label} [{mode.value}]:\n{error}")

    assert not failures, "\n\n".join(failures)
    # Not vacuous: every operation was reached, and (given its full count of cases, which a
    # few runs trimmed to one or two do not reach) most got past validation and lookup.
    labels = {operation.label for operation in operations}
    assert {label for label, _ in seen} == labels
    if schedule.trimmed:
        return
    succeeded = {label for label, status_class in seen if status_class == 2}
    assert len(succeeded) >= len(labels) * 3 // 4, (len(succeeded), sorted(labels - succeeded))
