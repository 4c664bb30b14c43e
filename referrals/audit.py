"""The audit of patient reads: who saw a referral's patient details, or tried to.

Kept apart from the referral services so that the integrations app, which records what
it discloses in a full FHIR message, need not import them (they import integrations).
"""

from __future__ import annotations

import uuid

from config.client import client_ip, client_user_agent
from referrals.models import PatientAccess, Referral


def patient_access_record(
    *,
    user,
    referral: Referral | None = None,
    referral_id=None,
    channel: str,
    request=None,
    resource: str = PatientAccess.Resource.DETAIL,
    outcome: str = PatientAccess.Outcome.GRANTED,
) -> PatientAccess:
    """Record a read (or a refused try) of a referral's patient details: who, from where.

    Who is kept as text as well as a link, so the row outlives the user's account.
    """
    if channel not in PatientAccess.Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    known = getattr(user, "pk", None) is not None
    organisation = getattr(user, "organisation", None) if known else None
    if referral_id is None and referral is not None:
        referral_id = referral.pk
    try:
        reference = uuid.UUID(str(referral_id))
    except ValueError:
        reference = uuid.UUID(int=0)  # not even a UUID: the try is kept, the id cannot be
    return PatientAccess.objects.create(
        referral=referral,
        referral_ref=reference,
        user=user if known else None,
        username=user.get_username() if known else "",
        organisation_name=organisation.name if organisation else "",
        role=getattr(user, "role", "") if known else "",
        channel=channel,
        resource=resource,
        outcome=outcome,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=client_user_agent(request) if request is not None else "",
    )
