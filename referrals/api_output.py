"""A created referral as the API answers it, built as a plain dict.

The create answer is ReferralDetailSerializer's shape (the schema still says so, and the
detail view still uses the serializer): building ~50 DRF fields per request, deep-copied
from the declarations each time, cost more CPU than the create's own SQL. Each value is
converted here exactly as the serializer's field would convert it (a None stays None, as
the serializer leaves it); tests/referrals/test_create_output.py holds the two equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from referrals.machine import referral_actions_for

if TYPE_CHECKING:
    from referrals.models import Referral

# The serializer's own date and date-time conversions (time zone, "Z", the format setting).
_DATETIME = serializers.DateTimeField()
_DATE = serializers.DateField()
_BOOLEAN = serializers.BooleanField()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _boolean(value: Any) -> bool | None:
    return None if value is None else _BOOLEAN.to_representation(value)


def _moment(value: Any) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _named(value: Any) -> dict | None:
    return None if value is None else {"id": int(value.id), "name": str(value.name)}


def referral_detail(referral: Referral, *, user: Any) -> dict[str, Any]:
    """ReferralDetailSerializer(referral, context={"user": user}).data, as a plain dict."""
    service = referral.service
    borough = referral.patient_borough
    referring_user = referral.referring_user
    date_of_birth = referral.date_of_birth
    return {
        "id": _text(referral.id),
        "status": _text(referral.status),
        "urgency": _text(referral.urgency),
        "incident_reference": _text(referral.incident_reference),
        "service": _named(service),
        "receiving_organisation": _named(service.organisation),
        "referring_organisation": _named(referral.referring_organisation),
        "category": _text(referral.category.code),
        "age_band": _text(referral.age_band),
        "decline_reason": _text(referral.decline_reason),
        "created_at": _moment(referral.created_at),
        "acknowledge_due_at": _moment(referral.acknowledge_due_at),
        "answer_due_at": _moment(referral.answer_due_at),
        "acknowledged_at": _moment(referral.acknowledged_at),
        "answered_at": _moment(referral.answered_at),
        "closed_at": _moment(referral.closed_at),
        "actions": referral_actions_for(user=user, referral=referral) if user else [],
        "referring_user": None if referring_user is None else _text(referring_user.username),
        "patient": {
            "nhs_number": _text(referral.nhs_number),
            "given_name": _text(referral.given_name),
            "family_name": _text(referral.family_name),
            "date_of_birth": None
            if date_of_birth is None
            else _DATE.to_representation(date_of_birth),
            "sex": _text(referral.sex),
            "phone": _text(referral.phone),
            "address": _text(referral.address),
            "postcode": _text(referral.postcode),
            "age_band": _text(referral.age_band),
            "borough": None if borough is None else _text(borough.name),
            "details_purged_at": _moment(referral.patient_details_purged_at),
        },
        "clinical": {
            "category": _text(referral.category.code),
            "presenting_complaint": _text(referral.presenting_complaint),
            "summary": _text(referral.summary),
            "observations": referral.observations,
            "safeguarding_concern": _boolean(referral.safeguarding_concern),
            "safeguarding_details": _text(referral.safeguarding_details),
            "mobility": _text(referral.mobility),
        },
        "consent": {
            "given": _boolean(referral.consent_given),
            "recorded_at": _moment(referral.consent_recorded_at),
        },
        "decline_note": _text(referral.decline_note),
        "outcome": _text(referral.outcome),
        "cancel_reason": _text(referral.cancel_reason),
        "holds_slot": _boolean(referral.holds_slot),
    }
