"""The access matrix's world: a crew's referral into another organisation's service, its
endpoint told; see world.py for the checks."""

from __future__ import annotations

import pytest

from directory.models import Role
from integrations.models import Delivery, Endpoint
from tests.access.world import HOOK_URL
from tests.factories import OrganisationFactory, ServiceFactory, UserFactory
from tests.referrals.factories import referral_create


@pytest.fixture
def world(db):
    trust = OrganisationFactory(name="Matrix Ambulance (test)")
    other_trust = OrganisationFactory(name="Other Matrix Ambulance (test)")
    provider = OrganisationFactory(name="Matrix Provider (test)")
    other_provider = OrganisationFactory(name="Other Matrix Provider (test)")
    people = {
        "crew": UserFactory(username="m-crew", organisation=trust, role=Role.CREW),
        "other_crew": UserFactory(username="m-crew2", organisation=other_trust, role=Role.CREW),
        "partner": UserFactory(
            username="m-partner", organisation=provider, role=Role.PARTNER, is_staff=True
        ),
        "other_partner": UserFactory(
            username="m-partner2", organisation=other_provider, role=Role.PARTNER, is_staff=True
        ),
        "planner": UserFactory(username="m-planner", role=Role.PLANNER),
        "operator": UserFactory(username="m-operator", role=Role.OPERATOR, is_staff=True),
    }
    service = ServiceFactory(organisation=provider, name="Matrix Falls Response")
    ServiceFactory(organisation=other_provider, name="Other Matrix Falls Response")
    endpoint = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url=HOOK_URL
    )
    Endpoint.objects.create(
        organisation=other_provider, kind=Endpoint.Kind.WEBHOOK, url="https://beta.example/h"
    )
    referral = referral_create(people["crew"], service)
    delivery = Delivery.objects.filter(endpoint=endpoint).first()
    assert delivery is not None
    return {
        "people": people,
        "service": service,
        "endpoint": endpoint,
        "referral": referral,
        "delivery": delivery,
        "provider": provider,
    }
