"""Shared fixtures: a few named users of different rights, as in healthchecks' hc/test.py."""

import logging
import re

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from directory.models import Organisation, Role
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    """MD5 instead of PBKDF2's million rounds: most of a slow suite is hashing test users'
    passwords (healthchecks does the same). Logins still check the password for real."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _postcode_cache_clear():
    """Each test starts without the process's postcode places (a rolled-back test's rows
    send no signal)."""
    from directory.postcodes import postcode_cache_clear

    postcode_cache_clear()


@pytest.fixture
def ambulance_trust(db):
    return OrganisationFactory(
        name="London Ambulance Service (test)",
        ods_code="RRU",
        kind=Organisation.Kind.AMBULANCE_TRUST,
    )


@pytest.fixture
def provider(db):
    return OrganisationFactory(name="Alpha Community Health (test)")


@pytest.fixture
def other_provider(db):
    return OrganisationFactory(name="Beta Care (test)")


@pytest.fixture
def crew(ambulance_trust):
    return UserFactory(username="alice-crew", organisation=ambulance_trust, role=Role.CREW)


@pytest.fixture
def partner(provider):
    return UserFactory(username="bob-partner", organisation=provider, role=Role.PARTNER)


@pytest.fixture
def other_partner(other_provider):
    return UserFactory(username="carol-partner", organisation=other_provider, role=Role.PARTNER)


@pytest.fixture
def planner(db):
    return UserFactory(username="dan-planner", role=Role.PLANNER)


@pytest.fixture
def operator(db):
    return UserFactory(username="erin-operator", role=Role.OPERATOR, is_staff=True)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api_as():
    """api_as(user) -> an APIClient authenticated as that user."""
    return client_for


# The test patients' identifiers (tests/referrals/factories.py, tests/integrations/conftest.py)
# in the forms a log line might carry them.
TEST_PATIENT_IDENTIFIERS = [
    "9434765919",
    "943 476 5919",
    "Testperson",
    "Quibblesworth",
    "Imogen",
    "1941-03-02",
    "1941-03-09",
]
_TEST_GIVEN_NAME = re.compile(r"\bAda\b")


class PatientLogScan:
    """Every log record of one test, from every logger (propagating or not), checked for a
    test patient's identifier: message, arguments and any traceback."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is the caller's bug, not a leak
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        for marker in TEST_PATIENT_IDENTIFIERS:
            if marker in text:
                self.found.append(f"{record.name}: {marker!r} in {text[:200]!r}")
        if _TEST_GIVEN_NAME.search(text):
            self.found.append(f"{record.name}: 'Ada' in {text[:200]!r}")


@pytest.fixture(autouse=True)
def patient_log_scan(monkeypatch):
    """No test patient's NHS number, name or date of birth reaches any log, in any test."""
    scan = PatientLogScan()
    handle = logging.Logger.handle

    def scanned(self, record):
        scan.check(record)
        return handle(self, record)

    monkeypatch.setattr(logging.Logger, "handle", scanned)
    yield scan
    assert scan.found == [], "patient details logged:\n" + "\n".join(scan.found)
