"""Referral writes: create, the one state machine, expiry, audit of patient reads, purge.

Every change of a referral's status goes through referral_transition, driven by the
TRANSITIONS table below; views, admin, pages and tasks all call it. Each transition
appends a ReferralEvent and hands it to the delivery outbox in the same transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from config.client import client_ip, client_user_agent
from config.errors import Conflict, DomainError
from directory import permissions
from directory.eligibility import Reason, is_not_taking
from directory.hours import LONDON
from directory.models import Borough, Service, User
from directory.postcodes import postcode_locate
from directory.reference import age_band, category_by_code
from directory.selectors import service_fit
from directory.services import service_slot_return, service_slot_take
from directory.timing import URGENCY_WITHIN_MINUTES
from integrations.services import deliveries_create_for_event
from referrals import selectors
from referrals.models import (
    CLOSED_STATUSES,
    AgeBand,
    DeclineReason,
    PatientAccess,
    Referral,
    ReferralEvent,
    Status,
)
from referrals.nhs_number import normalise_nhs_number

logger = logging.getLogger(__name__)

SYSTEM = "system"  # who may take an action that no person takes (expiry)
ANSWERER = "answerer"  # staff of the receiving organisation
REFERRER = "referrer"  # staff of the referring organisation


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    actor: str
    # From these statuses, first the named action is taken implicitly, with its own event
    # just before (accepting straight from sent records the acknowledgement).
    via: tuple[tuple[str, str], ...] = ()
    # Whether the parties hear of it (an outbox delivery). The implicit acknowledgement
    # is not sent on its own: the acceptance right after it says more.
    emits: bool = True


# The state machine, in one place: action -> allowed from-statuses, to-status, who.
# "escalate" changes no status: it is an event on an unacknowledged referral past its
# urgency's deadline, written once (escalated_at) and told to both parties.
TRANSITIONS: dict[str, Transition] = {
    "acknowledge": Transition((Status.SENT,), Status.ACKNOWLEDGED, ANSWERER),
    "accept": Transition(
        (Status.SENT, Status.ACKNOWLEDGED),
        Status.ACCEPTED,
        ANSWERER,
        via=((Status.SENT, "acknowledge"),),
    ),
    "decline": Transition((Status.SENT, Status.ACKNOWLEDGED), Status.DECLINED, ANSWERER),
    "complete": Transition((Status.ACCEPTED,), Status.COMPLETED, ANSWERER),
    "cancel": Transition(
        (Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED), Status.CANCELLED, REFERRER
    ),
    "expire": Transition((Status.SENT, Status.ACKNOWLEDGED), Status.EXPIRED, SYSTEM),
    "escalate": Transition((Status.SENT,), Status.SENT, SYSTEM),
}

# Leaving into these gives a held slot back to the service.
SLOT_RELEASING = {Status.DECLINED, Status.CANCELLED, Status.EXPIRED}


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


def _emit(event: ReferralEvent) -> None:
    # The outbox row is written in this same transaction: the event and its delivery
    # commit together or not at all.
    deliveries_create_for_event(event=event)


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


def referral_create(*, user, data: dict[str, Any], now: datetime | None = None) -> Referral:
    """Send a patient's referral into a service; takes a counted slot if the service has them.

    `data` is ReferralCreateApi.InputSerializer's validated_data. Every check runs before
    anything is written; a refusal changes nothing.
    """
    now = now or timezone.now()
    service = (
        Service.objects.select_related("location__borough", "organisation")
        .filter(pk=data["service"])
        .first()
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

    with transaction.atomic():
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
        referral = Referral.objects.create(
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
            acknowledge_due_at=now + timedelta(minutes=service.acknowledge_within_minutes),
            answer_due_at=now + timedelta(minutes=service.answer_within_minutes),
            escalate_due_at=now + escalation_delay(data["urgency"]),
        )
        event = ReferralEvent.objects.create(
            referral=referral,
            from_status="",
            to_status=Status.SENT,
            actor=user,
            actor_organisation_id=user.organisation_id,
        )
        _emit(event)
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


# --- the state machine ---------------------------------------------------------------


def _may(user, actor: str, referral: Referral) -> bool:
    if actor == SYSTEM:
        return user is None
    if user is None:
        return False
    if actor == ANSWERER:
        return permissions.can_answer_referral(user, referral)
    return permissions.can_cancel_referral(user, referral)


def _is_overdue(referral: Referral, now: datetime) -> bool:
    if referral.status == Status.SENT and referral.acknowledge_due_at <= now:
        return True
    return referral.status in (Status.SENT, Status.ACKNOWLEDGED) and referral.answer_due_at <= now


def _expiry_reason(referral: Referral, now: datetime) -> tuple[str, str]:
    if referral.status == Status.SENT and referral.acknowledge_due_at <= now:
        minutes = referral.service.acknowledge_within_minutes
        return "not_acknowledged", f"Not acknowledged within {minutes} minutes."
    minutes = referral.service.answer_within_minutes
    return "not_answered", f"Not answered within {minutes} minutes."


def referral_actions_for(*, user, referral: Referral) -> list[str]:
    """The actions this user may take on this referral now (pages offer only these)."""
    return [
        action
        for action, rule in TRANSITIONS.items()
        if rule.actor != SYSTEM
        and referral.status in rule.sources
        and _may(user, rule.actor, referral)
    ]


def _check_input(action: str, reason_code: str, note: str) -> None:
    if action not in TRANSITIONS:
        raise DomainError(f"Unknown action {action!r}.", code="unknown_action")
    if action == "decline" and reason_code not in DeclineReason.values:
        raise DomainError(
            "Say why the referral is declined.",
            code="invalid",
            fields={"reason_code": [f"One of: {', '.join(DeclineReason.values)}."]},
        )
    if action == "cancel" and not note.strip():
        raise DomainError(
            "Say why the referral is cancelled.",
            code="invalid",
            fields={"reason": ["A reason is required."]},
        )


def referral_transition(
    *,
    referral_id,
    user,
    action: str,
    reason_code: str = "",
    note: str = "",
    outcome: str = "",
    now: datetime | None = None,
) -> Referral:
    """Move a referral by one action of the transition table, or refuse and change nothing.

    user=None is the system (expiry). A user who cannot see the referral gets 404; one who
    sees it but may not take the action, 403; an action the current status does not
    allow, 409 illegal_transition with the current status.
    """
    _check_input(action, reason_code, note)
    rule = TRANSITIONS[action]
    now = now or timezone.now()

    with transaction.atomic():
        queryset = Referral.objects.select_related("service")
        if user is not None:
            queryset = permissions.referrals_visible_to(user, queryset)
        # Row lock: two answers to one referral queue here and the second sees the first's
        # status, so it cannot move a referral that has just moved.
        referral = queryset.select_for_update(of=("self",)).filter(pk=referral_id).first()
        if referral is None:
            raise DomainError("Referral not found.", code="not_found", status_code=404)
        if not _may(user, rule.actor, referral):
            raise DomainError(
                "You may not do this to this referral.", code="forbidden", status_code=403
            )
        if (
            referral.status not in rule.sources
            or (action == "expire" and not _is_overdue(referral, now))
            or (action == "escalate" and not _is_escalation_due(referral, now))
        ):
            raise Conflict(
                f"A referral that is {referral.status} cannot be {rule.target}.",
                code="illegal_transition",
                extra={"status": referral.status},
            )

        if action == "escalate":
            # Conditional UPDATE: of two sweeps racing for one referral (no row locks on
            # SQLite), exactly one sets escalated_at and tells anyone.
            if not Referral.objects.filter(
                pk=referral.pk, status=Status.SENT, escalated_at__isnull=True
            ).update(escalated_at=now):
                raise Conflict(
                    "This referral has already been escalated.",
                    code="illegal_transition",
                    extra={"status": referral.status},
                )
            referral.escalated_at = now
        started = referral.status
        for source, implied in rule.via:
            if referral.status == source:
                # Written as its own action would be, just before, without telling anyone.
                quiet = replace(TRANSITIONS[implied], emits=False)
                _apply(referral, implied, quiet, user, now, note=f"Implied by {action}.")
        _apply(
            referral, action, rule, user, now, reason_code=reason_code, note=note, outcome=outcome
        )
    logger.info("referral %s %s -> %s", referral.id, started, rule.target)
    return referral


def _apply(
    referral: Referral,
    action: str,
    rule: Transition,
    user,
    now: datetime,
    *,
    reason_code: str = "",
    note: str = "",
    outcome: str = "",
) -> ReferralEvent:
    """One step of the table on a locked referral: its fields, its event, its outbox rows."""
    from_status = referral.status
    if action == "expire":
        reason_code, note = _expiry_reason(referral, now)
    elif action == "escalate":
        reason_code = "not_acknowledged"
        note = "No answer yet: the partner and the crew's organisation were told."
    referral.status = rule.target
    changed = ["status", "updated_at"]
    if action == "acknowledge":
        referral.acknowledged_at = now
        changed.append("acknowledged_at")
    elif action == "accept":
        referral.answered_at = now
        changed.append("answered_at")
    elif action == "decline":
        referral.decline_reason = reason_code
        referral.decline_note = note
        referral.answered_at = now
        changed += ["decline_reason", "decline_note", "answered_at"]
    elif action == "complete":
        referral.outcome = outcome
        changed.append("outcome")
    elif action == "cancel":
        referral.cancel_reason = note
        changed.append("cancel_reason")
    if rule.target in CLOSED_STATUSES:
        referral.closed_at = now
        changed.append("closed_at")
    if rule.target in SLOT_RELEASING and referral.holds_slot:
        referral.holds_slot = False
        changed.append("holds_slot")
        # Give the slot back, unless the partner has since stopped counting slots.
        service_slot_return(service_id=referral.service_id)
    referral.save(update_fields=changed)

    event = ReferralEvent.objects.create(
        referral=referral,
        from_status=from_status,
        to_status=rule.target,
        actor=user,
        actor_organisation_id=getattr(user, "organisation_id", None),
        reason_code=reason_code,
        note=note if action != "complete" else outcome,
        action=action,
    )
    if rule.emits:
        _emit(event)
    return event


def _is_escalation_due(referral: Referral, now: datetime) -> bool:
    return (
        referral.escalate_due_at is not None
        and referral.escalate_due_at <= now
        and referral.escalated_at is None
    )


def referrals_escalate_overdue(*, now: datetime | None = None) -> int:
    """Escalate referrals still unacknowledged past their urgency's deadline; returns how
    many. Each is escalated once (see referral_transition's "escalate")."""
    now = now or timezone.now()
    due = Referral.objects.filter(
        status=Status.SENT, escalate_due_at__lte=now, escalated_at__isnull=True
    ).values_list("id", flat=True)
    escalated = 0
    for referral_id in list(due[:1000]):
        try:
            referral_transition(referral_id=referral_id, user=None, action="escalate", now=now)
        except Conflict:
            continue  # acknowledged, or escalated by another sweep, since our query
        escalated += 1
    return escalated


def referrals_expire_overdue(*, now: datetime | None = None) -> int:
    """Expire referrals nobody acknowledged or answered in time; returns how many expired."""
    now = now or timezone.now()
    overdue = Referral.objects.filter(
        Q(status=Status.SENT, acknowledge_due_at__lte=now)
        | Q(status__in=[Status.SENT, Status.ACKNOWLEDGED], answer_due_at__lte=now)
    ).values_list("id", flat=True)
    expired = 0
    for referral_id in list(overdue[:1000]):
        try:
            referral_transition(referral_id=referral_id, user=None, action="expire", now=now)
        except Conflict:
            continue  # answered between our query and the lock: nothing to expire
        expired += 1
    return expired


# --- audit and privacy ---------------------------------------------------------------


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
