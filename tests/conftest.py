"""Shared fixtures: a few named users of different rights, as in healthchecks' hc/test.py."""

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
