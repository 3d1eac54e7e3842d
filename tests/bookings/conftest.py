import pytest

from openvisit.runtime import Runtime
from tests.bookings.clinic import Clinic, make_clinic


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    return make_clinic(runtime)
