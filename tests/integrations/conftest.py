"""Deliveries' fixtures: real receivers on 127.0.0.1, endpoints, referrals through the service."""

from datetime import date

import pytest

from integrations.models import Endpoint
from referrals.services import referral_create, referral_transition
from tests.factories import ServiceFactory
from tests.integrations.receiver import Receiver

# A fictional patient: these values must never appear in anything we send.
PATIENT = {
    "nhs_number": "9434765919",
    "given_name": "Imogen",
    "family_name": "Quibblesworth",
    "date_of_birth": date(1941, 3, 9),
    "sex": "female",
    "phone": "07700 900123",
    "address": "7 Tamarind Mews, London",
    "postcode": "SW1A 1AA",
}
PATIENT_DETAILS = [
    "9434765919",
    "Imogen",
    "Quibblesworth",
    "1941-03-09",
    "07700 900123",
    "Tamarind",
    "SW1A 1AA",
    "fell in the garden",
]


@pytest.fixture(autouse=True)
def _delivery_settings(settings):
    # Receivers run on 127.0.0.1; no broker unless a test brings one.
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.CELERY_BROKER_URL = ""
    settings.SITE_URL = "https://frontdoor.test"
    settings.OPERATOR_EMAILS = ["oncall@frontdoor.test"]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def service(provider):
    return ServiceFactory(organisation=provider, name="Alpha Falls Response")


def make_endpoint(organisation, url: str = "", **fields) -> Endpoint:
    fields.setdefault("kind", Endpoint.Kind.WEBHOOK)
    if fields["kind"] == Endpoint.Kind.EMAIL:
        fields.setdefault("email", "referrals@alpha.test")
    else:
        fields["url"] = url or "https://receiver.invalid/hooks"
    return Endpoint.objects.create(organisation=organisation, **fields)


def make_referral(crew, service, **overrides):
    """A referral sent the real way (referrals.services), so its event writes the outbox."""
    data = {
        "service": service.pk,
        "incident_reference": "CAD-0001",
        "urgency": "within_1h",
        "patient": dict(PATIENT),
        "clinical": {
            "category": "falls",
            "presenting_complaint": "fell in the garden",
            "summary": "Found on the floor; no head injury.",
            "observations": {},
            "safeguarding_concern": False,
            "mobility": "with_aid",
        },
        "consent": {"given": True},
    }
    data.update(overrides)
    return referral_create(user=crew, data=data)


def answer(referral, user, action: str, **fields):
    return referral_transition(referral_id=referral.pk, user=user, action=action, **fields)
