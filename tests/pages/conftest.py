"""Page test fixtures: a partner's service near a known postcode, and signed-in browsers."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from directory.models import Postcode
from tests.factories import ServiceFactory, borough

POSTCODE = "SW1A 1AA"  # the factories' locations sit on it


@pytest.fixture
def postcode(db):
    return Postcode.objects.create(
        postcode=POSTCODE, latitude=51.5010, longitude=-0.1416, borough=borough()
    )


@pytest.fixture
def service(provider, postcode):
    """A falls service of the partner's organisation, open around the clock, GREEN."""
    return ServiceFactory(
        organisation=provider,
        name="Alpha Falls Response",
        capacity_updated_at=timezone.now() - timedelta(minutes=12),
    )


@pytest.fixture
def as_user(db):
    """as_user(user) -> a django.test.Client signed in as that user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
