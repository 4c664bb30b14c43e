"""The referral's state machine: one function that moves a referral by one row of the table.

The rows are in referrals/machine_table.py (TRANSITIONS). referral_transition is the only
code that changes a referral's status; views, the APIs, the FHIR API, admin and the sweep
call it. Here too: who may take which action now, the inputs a refusal names, and the
expiry and escalation sweeps, which take the table's system actions.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, DomainError
from directory import permissions
from directory.services import service_slot_return
from integrations.models import Endpoint
from integrations.outbox import deliveries_create_for_event
from referrals.machine_table import ANSWERER, SYSTEM, TRANSITIONS, Input, Transition, overdue_q
from referrals.models import Referral, ReferralEvent, Status

logger = logging.getLogger(__name__)


def refused_inputs(action: str, error: DomainError) -> list[Input]:
    """The inputs of this action that a refusal names (to show it beside their fields)."""
    return [
        wanted
        for wanted in TRANSITIONS[action].inputs
        if (wanted.api_name or wanted.name) in error.fields
    ]


def answer_actions(actor: str) -> list[Transition]:
    """The rows a person of this kind may take, in table order (the pages' buttons)."""
    return [rule for rule in TRANSITIONS.values() if rule.actor == actor]


def _may(user, actor: str, referral: Referral) -> bool:
    if actor == SYSTEM:
        return user is None
    if user is None:
        return False
    if actor == ANSWERER:
        return permissions.can_answer_referral(user, referral)
    return permissions.can_cancel_referral(user, referral)


def referral_actions_for(*, user, referral: Referral) -> list[str]:
    """The actions this user may take on this referral now (pages offer only these)."""
    return [
        action
        for action, rule in TRANSITIONS.items()
        if rule.actor != SYSTEM
        and referral.status in rule.sources
        and _may(user, rule.actor, referral)
    ]


def _check_inputs(action: str, given: dict[str, str]) -> None:
    if action not in TRANSITIONS:
        raise DomainError(f"Unknown action {action!r}.", code="unknown_action")
    for wanted in TRANSITIONS[action].inputs:
        problem = wanted.problem(given.get(wanted.name, ""), given)
        if problem:
            raise DomainError(
                wanted.required or f"{wanted.label}: {problem}",
                code="invalid",
                fields={wanted.api_name or wanted.name: [problem]},
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

    user=None is the system (expiry, escalation). A user who cannot see the referral gets
    404; one who sees it but may not take the action, 403; an action the current status
    does not allow, 409 illegal_transition with the current status. Inputs the action
    does not take are ignored.
    """
    given = {"reason_code": reason_code, "note": note, "outcome": outcome}
    _check_inputs(action, given)
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
        if referral.status not in rule.sources or (rule.due and not rule.due(referral, now)):
            raise Conflict(
                f"A referral that is {referral.status} cannot be {rule.target}.",
                code="illegal_transition",
                extra={"status": referral.status},
            )
        if rule.once:
            unset = {f"{rule.once}__isnull": True}
            if not Referral.objects.filter(pk=referral.pk, status=referral.status, **unset).update(
                **{rule.once: now}
            ):
                raise Conflict(
                    f"Already taken once: {rule.done.lower()}.",
                    code="illegal_transition",
                    extra={"status": referral.status},
                )
            setattr(referral, rule.once, now)
        started = referral.status
        for source, implied in rule.via:
            if referral.status == source:
                # Written as its own action would be, just before, without telling anyone.
                quiet = replace(TRANSITIONS[implied], emits=False)
                _apply(referral, quiet, user, now, {"note": f"Implied by {action}."})
        _apply(referral, rule, user, now, given)
    logger.info("referral %s %s -> %s", referral.id, started, rule.target)
    return referral


def _apply(
    referral: Referral, rule: Transition, user, now: datetime, given: dict[str, str]
) -> ReferralEvent:
    """One row of the table on a locked referral: its fields, its event, its outbox rows."""
    from_status = referral.status
    changes: dict[str, object] = {"status": rule.target}
    event = {"reason_code": "", "note": given.get("note", "") if not rule.inputs else ""}
    for wanted in rule.inputs:
        changes[wanted.field] = given.get(wanted.name, "")
        event[wanted.event_column] = given.get(wanted.name, "")
    if rule.explain is not None:
        event["reason_code"], event["note"] = rule.explain(referral, now)
    for stamp in rule.stamps:
        changes[stamp] = now
    if rule.gives_slot_back and referral.holds_slot:
        changes["holds_slot"] = False
        # Give the slot back, unless the partner has since stopped counting slots.
        service_slot_return(service_id=referral.service_id)
    for name, value in changes.items():
        setattr(referral, name, value)
    referral.save(update_fields=[*changes, "updated_at"])

    written = ReferralEvent.objects.create(
        referral=referral,
        from_status=from_status,
        to_status=rule.target,
        actor=user,
        actor_organisation_id=getattr(user, "organisation_id", None),
        action=rule.action,
        **event,
    )
    if rule.emits:
        emit(written)
    return written


def emit(event: ReferralEvent, *, endpoints: list[Endpoint] | None = None) -> None:
    """Tell the parties of an event: the one call from referrals into the integrations app.

    The outbox row is written in the caller's transaction: the event and its delivery
    commit together or not at all. `endpoints`: the recipients' endpoints when the caller
    has read them already (see deliveries_create_for_event).
    """
    deliveries_create_for_event(event=event, endpoints=endpoints)


def referrals_escalate_overdue(*, now: datetime | None = None) -> int:
    """Escalate referrals still unacknowledged past their urgency's deadline; returns how
    many. Each is escalated once (the table's "escalate" sets escalated_at once)."""
    now = now or timezone.now()
    due = Referral.objects.filter(
        status=Status.SENT, escalate_due_at__lte=now, escalated_at__isnull=True
    ).values_list("id", flat=True)
    return _run_system_action("escalate", list(due[:1000]), now)


def referrals_expire_overdue(*, now: datetime | None = None) -> int:
    """Expire open referrals nobody acknowledged or answered in time; returns how many."""
    now = now or timezone.now()
    overdue = Referral.objects.filter(overdue_q(now)).values_list("id", flat=True)
    return _run_system_action("expire", list(overdue[:1000]), now)


def _run_system_action(action: str, referral_ids: list, now: datetime) -> int:
    taken = 0
    for referral_id in referral_ids:
        try:
            referral_transition(referral_id=referral_id, user=None, action=action, now=now)
        except Conflict:
            continue  # answered, or taken by another sweep, between our query and the lock
        taken += 1
    return taken
