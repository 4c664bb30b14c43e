"""Referral test data: request bodies and referrals in any status. Fictional patients only."""

from __future__ import annotations

import copy
from datetime import timedelta

from django.utils import timezone

from referrals import services
from referrals.models import Referral, Status

# A number from the NHS's published test range; it passes the Modulus 11 check.
TEST_NHS_NUMBER = "9434765919"


def referral_body(service, **overrides) -> dict:
    """A valid POST /api/v1/referrals/ body for `service`; overrides replace top-level keys."""
    body = {
        "service": service.pk,
        "incident_reference": "CAD-123",
        "urgency": "within_4h",
        "patient": {
            "nhs_number": TEST_NHS_NUMBER,
            "given_name": "Ada",
            "family_name": "Testperson",
            "date_of_birth": "1941-03-02",
            "sex": "female",
            "phone": "07700 900123",
            "address": "1 Fictional Road, London",
            "postcode": "SW1A 1AA",
        },
        "clinical": {
            "category": "falls",
            "presenting_complaint": "Fall at home, no head injury",
            "summary": "Found on floor, able to stand with help.",
            "observations": {
                "respiratory_rate": 18,
                "spo2": 96,
                "heart_rate": 82,
                "systolic_bp": 134,
                "temperature": 36.8,
                "consciousness": "A",
                "news2": 1,
            },
            "safeguarding_concern": False,
            "mobility": "with_aid",
        },
        "consent": {"given": True},
    }
    body = copy.deepcopy(body)
    body.update(overrides)
    return body


def validated(service, **overrides) -> dict:
    """The body as ReferralCreateApi.InputSerializer validates it (for calling the service)."""
    from referrals.api import ReferralCreateApi

    serializer = ReferralCreateApi.InputSerializer(data=referral_body(service, **overrides))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def referral_create(crew, service, **overrides) -> Referral:
    return services.referral_create(user=crew, data=validated(service, **overrides))


# How to reach each status from a fresh referral: (action, who) steps; who is
# "partner", "crew" or None for the system.
PATHS: dict[str, list[tuple[str, str | None]]] = {
    Status.SENT: [],
    Status.ACKNOWLEDGED: [("acknowledge", "partner")],
    Status.ACCEPTED: [("acknowledge", "partner"), ("accept", "partner")],
    Status.COMPLETED: [("acknowledge", "partner"), ("accept", "partner"), ("complete", "partner")],
    Status.DECLINED: [("decline", "partner")],
    Status.CANCELLED: [("cancel", "crew")],
    Status.EXPIRED: [("expire", None)],
}


def referral_in(status: str, *, crew, partner, service) -> Referral:
    """A referral of `crew` into `service` brought to `status` through the state machine."""
    referral = referral_create(crew, service)
    people = {"crew": crew, "partner": partner, None: None}
    for action, who in PATHS[status]:
        referral = services.referral_transition(
            referral_id=referral.pk,
            user=people[who],
            action=action,
            reason_code="duplicate" if action == "decline" else "",
            note="Crew found another pathway" if action == "cancel" else "",
            now=timezone.now() + timedelta(days=1) if action == "expire" else None,
        )
    assert referral.status == status
    return referral
