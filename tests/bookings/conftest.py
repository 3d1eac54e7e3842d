import pytest

from tests.bookings.clinic import make_clinic


@pytest.fixture
def clinic(runtime):
    return make_clinic(runtime)
