"""Referral writes: create, expiry and escalation sweeps, audit of patient reads, purge.

Every change of a referral's status goes through referral_transition (referrals/machine.py),
driven by its TRANSITIONS table; views, admin, pages and tasks all call it. Each transition
appends a ReferralEvent and hands it to the delivery outbox in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from config.compiled import insert
from config.errors import Conflict, DomainError
from config.json_agg import compiled_once, json_rows
from directory import permissions
from directory.eligibility import Reason, is_not_taking
from directory.hours import LONDON
from directory.models import Borough, Service, User
from directory.postcodes import postcode_locate
from directory.reference import age_band, category_by_code
from directory.selectors import service_fit, service_for_fit
from directory.services import service_slot_take
from directory.timing import URGENCY_WITHIN_MINUTES
from integrations.outbox import (
    ENDPOINT_JSON_COLUMNS,
    endpoints_from_json,
    endpoints_told_of_events,
)
from referrals import selectors
from referrals.audit import patient_access_record

# The state machine lives in referrals/machine.py; callers may name it from here too.
from referrals.machine import (  # noqa: F401
    TRANSITIONS,
    emit,
    referral_actions_for,
    referral_transition,
    referrals_escalate_overdue,
    referrals_expire_overdue,
)
from referrals.models import (
    CLOSED_STATUSES,
    AgeBand,
    PatientAccess,
    Referral,
    ReferralEvent,
    Status,
)
from referrals.nhs_number import normalise_nhs_number

logger = logging.getLogger(__name__)

# --- helpers -------------------------------------------------------------------------


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_band_for(age: int | None) -> str:
    """The referral's de-identified age: directory.reference's bands, "unknown" if unknown."""
    return AgeBand(age_band(age) or AgeBand.UNKNOWN)


def _patient_borough(postcode: str, service: Service) -> Borough | None:
    """Where the patient is: from the postcode when we know it, else the service's borough."""
    if postcode:
        try:
            found = postcode_locate(postcode)
        except DomainError:
            found = None  # an unknown postcode does not stop a referral
        if found is not None and found.borough is not None:
            return found.borough
    return service.location.borough


# --- create --------------------------------------------------------------------------

ADDRESS_REQUIRED = "This service visits the patient at home: give the patient's address."


def referral_address_problem(*, service: Service, address: str | None) -> str | None:
    """Why the patient's address is not enough for this service, or None.

    A team that visits at home must know where to go; pages call this too, to show the
    problem with the form's other errors rather than after them.
    """
    if service.visits_at_home and not (address or "").strip():
        return ADDRESS_REQUIRED
    return None


def _receiving_endpoints():
    return json_rows(
        endpoints_told_of_events(),
        parent="organisation",
        outer="organisation_id",
        **ENDPOINT_JSON_COLUMNS,
    )


def _service_to_refer():
    return Service.objects.select_related("location__borough", "organisation").annotate(
        receiving_endpoints=compiled_once(Service, "receiving_endpoints", _receiving_endpoints)
    )


def referral_create(*, user, data: dict[str, Any], now: datetime | None = None) -> Referral:
    """Send a patient's referral into a service; takes a counted slot if the service has them.

    `data` is ReferralCreateApi.InputSerializer's validated_data. Every check runs before
    anything is written; a refusal changes nothing.
    """
    now = now or timezone.now()
    # The receiving organisation's endpoints come with the service: the created event's
    # outbox rows need them, and reading them here spares a round trip.
    service = service_for_fit(
        service_id=data["service"], queryset=_service_to_refer, name="referral_create"
    )
    if service is None:
        raise DomainError(
            "No such service.", code="unknown_service", fields={"service": ["Unknown service."]}
        )
    if not user.organisation_id or not permissions.can_refer(user, service):
        raise DomainError(
            "Your role may not refer into this service.", code="forbidden", status_code=403
        )
    if not service.active:
        raise DomainError(
            "This service is not taking referrals.",
            code="service_inactive",
            status_code=422,
            fields={"service": ["The service is not active."]},
        )

    patient = data["patient"]
    clinical = data["clinical"]
    if not (data.get("consent") or {}).get("given"):
        raise DomainError(
            "The patient's consent is required.",
            code="consent_required",
            fields={"consent": {"given": ["Consent must be given."]}},
        )
    nhs_number = ""
    if patient.get("nhs_number"):
        nhs_number = normalise_nhs_number(patient["nhs_number"]) or ""
        if not nhs_number:
            raise DomainError(
                "The NHS number is not valid.",
                code="invalid_nhs_number",
                fields={"patient": {"nhs_number": ["Not a valid NHS number."]}},
            )
    address_problem = referral_address_problem(service=service, address=patient.get("address"))
    if address_problem:
        raise DomainError(
            address_problem,
            code="address_required",
            fields={"patient": {"address": [address_problem]}},
        )
    category = category_by_code(clinical["category"])
    if category is None:
        raise DomainError(
            "Unknown category.",
            code="unknown_category",
            fields={"clinical": {"category": ["Unknown category."]}},
        )

    born = patient.get("date_of_birth")
    age = _age_on(born, timezone.localdate(now)) if born else None
    postcode = patient.get("postcode") or ""
    borough = _patient_borough(postcode, service)
    # The search's rules, with its time rule over the referral's urgency window: a
    # within_4h referral may go to a service that opens in 20 minutes.
    within = timedelta(minutes=URGENCY_WITHIN_MINUTES[data["urgency"]])
    fit = service_fit(
        service=service,
        age=age,
        sex=patient.get("sex") or "",
        borough=borough,
        at=now,
        within=within,
    )
    problem = fit.problem
    if problem == "full":
        raise Conflict("The service has no slots left.", code="no_capacity")
    if problem is None and is_not_taking(service.capacity_status, service.capacity_expires_at, now):
        raise Conflict(
            "The service is not taking referrals now (capacity RED): phone it instead.",
            code="no_capacity",
            extra={"reason": Reason.NOT_TAKING},
        )
    if problem:
        message = f"This service cannot take this referral ({problem.replace('_', ' ')})."
        extra: dict[str, Any] = {"reason": problem}
        opens = fit.hours.state.next_change if not fit.hours.state.open else None
        if problem == "closed" and opens is not None:
            local = opens.astimezone(LONDON)
            message = (
                f"This service cannot take this referral (closed): it opens at "
                f"{local:%H:%M} on {local:%a %d %b}, later than {data['urgency']} allows."
            )
            extra["opens_at"] = local.isoformat()
        raise DomainError(
            message,
            code="referral_refused",
            status_code=422,
            fields={"urgency": [message]} if problem in {"closed", "closing_soon"} else None,
            extra=extra,
        )

    # The partner's clocks start when the service can take the patient: one sent at 07:40 to a
    # service opening at 08:00 must not expire, or escalate, before anyone there could read it.
    takes_from = fit.hours.takes_from
    clock_from = max(now, takes_from) if takes_from is not None else now

    # No savepoint of its own: the API and the page call this inside idempotent_response's
    # transaction, and a refusal here rolls that whole transaction back anyway (the key
    # too), so SAVEPOINT and RELEASE would be two round trips that buy nothing.
    with transaction.atomic(savepoint=False):
        holds_slot = False
        if service.capacity_slots is not None:
            # A conditional UPDATE inside: the database decides who gets the last slot.
            if not service_slot_take(service_id=service.pk):
                raise Conflict("The service has no slots left.", code="no_capacity")
            holds_slot = True

        # The token check joins the user's organisation: reuse it rather than read it again
        # for the outbox and the answer.
        referring = (
            {"referring_organisation": user.organisation}
            if User.organisation.is_cached(user)
            else {"referring_organisation_id": user.organisation_id}
        )
        referral = Referral(
            service=service,
            **referring,
            referring_user=user,
            incident_reference=data["incident_reference"],
            urgency=data["urgency"],
            nhs_number=nhs_number,
            given_name=patient.get("given_name", ""),
            family_name=patient.get("family_name", ""),
            date_of_birth=born,
            sex=patient.get("sex") or "",
            phone=patient.get("phone", ""),
            address=patient.get("address", ""),
            postcode=postcode,
            category=category,
            presenting_complaint=clinical.get("presenting_complaint", ""),
            summary=clinical.get("summary", ""),
            observations=clinical.get("observations") or {},
            safeguarding_concern=bool(clinical.get("safeguarding_concern")),
            safeguarding_details=clinical.get("safeguarding_details", ""),
            mobility=clinical.get("mobility") or "unknown",
            consent_given=True,
            consent_recorded_at=now,
            age_band=age_band_for(age),
            patient_borough=borough,
            holds_slot=holds_slot,
            acknowledge_due_at=clock_from + timedelta(minutes=service.acknowledge_within_minutes),
            answer_due_at=clock_from + timedelta(minutes=service.answer_within_minutes),
            escalate_due_at=clock_from + escalation_delay(data["urgency"]),
        )
        event = ReferralEvent(
            referral=referral,
            from_status="",
            to_status=Status.SENT,
            actor=user,
            actor_organisation_id=user.organisation_id,
        )
        # One statement on PostgreSQL, its SQL compiled once per connection: compiling the
        # INSERTs of these two wide rows per request cost more CPU than sending them, and
        # each was a round trip of its own (config/compiled.py).
        insert([referral], [event])
        emit(event, endpoints=endpoints_from_json(service.receiving_endpoints))
    logger.info("referral %s sent to service %s", referral.id, service.id)
    return referral


def escalation_delay(urgency: str) -> timedelta:
    """How long a partner has to acknowledge a referral of this urgency before escalation."""
    minutes = {
        "within_1h": settings.ESCALATE_WITHIN_1H_MINUTES,
        "within_4h": settings.ESCALATE_WITHIN_4H_MINUTES,
        "within_24h": settings.ESCALATE_WITHIN_24H_MINUTES,
    }[urgency]
    return timedelta(minutes=minutes)


def referrals_sweep(*, now: datetime | None = None) -> int:
    """The referrals' periodic housekeeping (beat's referrals.sweep, and the embedded loop):
    expire unanswered referrals and escalate unacknowledged ones (their events tell the
    parties), and drop idempotency keys past their lifetime (their stored answers carry
    patient details). Returns how many referrals expired.
    """
    from referrals.idempotency import idempotency_keys_purge

    try:
        expired = referrals_expire_overdue(now=now)
        referrals_escalate_overdue(now=now)
        idempotency_keys_purge(now=now)
    except Exception:
        # One bad pass must not stop the loop that calls us; the next pass tries again.
        logger.exception("referral sweep failed; will try again on the next pass")
        return 0
    return expired


# --- audit and privacy ---------------------------------------------------------------


def referral_read(
    *, request, referral_id, channel: str, resource: str = PatientAccess.Resource.DETAIL
) -> Referral:
    """The referral for a read of its patient details or free text, audited either way.

    Http404 (not found, or not this user's to see) is recorded as a refused try first.
    """
    try:
        referral = selectors.referral_get(user=request.user, referral_id=referral_id)
    except Http404:
        patient_access_record(
            user=request.user,
            referral_id=referral_id,
            channel=channel,
            request=request,
            resource=resource,
            outcome=PatientAccess.Outcome.DENIED,
        )
        raise
    patient_access_record(
        user=request.user, referral=referral, channel=channel, request=request, resource=resource
    )
    return referral


IDENTIFYING_BLANKS: dict[str, Any] = {
    "nhs_number": "",
    "given_name": "",
    "family_name": "",
    "date_of_birth": None,
    "phone": "",
    "address": "",
    "postcode": "",
    "presenting_complaint": "",
    "summary": "",
    "safeguarding_details": "",
    "decline_note": "",
    "outcome": "",
    "cancel_reason": "",
}


def referrals_purge_patient_details(*, older_than_days: int, now: datetime | None = None) -> int:
    """Blank the identifiers of closed referrals older than this; keep de-identified facts.

    Age band, borough, category, statuses and times stay for reports. Free text that may
    carry identifiers (complaint, summary, notes, outcome, event notes) goes too.
    """
    if older_than_days < 1:
        raise DomainError("Keep at least one day.", code="invalid")
    now = now or timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    due = Referral.objects.filter(
        status__in=CLOSED_STATUSES, closed_at__lt=cutoff, patient_details_purged_at__isnull=True
    )
    blanks = dict(IDENTIFYING_BLANKS)
    if settings.PURGE_INCIDENT_REFERENCE:
        # The CAD incident number leads back to the patient in the ambulance trust's system.
        blanks["incident_reference"] = ""
    with transaction.atomic():
        # Events first: once the referrals are marked purged the subquery no longer finds them.
        ReferralEvent.objects.filter(referral__in=due.values("id")).exclude(note="").update(note="")
        purged = due.update(patient_details_purged_at=now, **blanks)
    logger.info("purged patient details of %s referrals", purged)
    return purged


def referrals_purge_by_policy(*, now: datetime | None = None) -> tuple[int, int]:
    """The scheduled purge (beat and the embedded loop): patient details of referrals closed
    more than PATIENT_DETAILS_RETENTION_DAYS ago, and idempotency keys past their 24 hours.
    Audit rows are never touched. Returns (referrals purged, keys deleted)."""
    from referrals.idempotency import idempotency_keys_purge

    purged = referrals_purge_patient_details(
        older_than_days=settings.PATIENT_DETAILS_RETENTION_DAYS, now=now
    )
    return purged, idempotency_keys_purge(now=now)
