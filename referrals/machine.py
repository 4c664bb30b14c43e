"""The referral's state machine, as data: one table, one function that moves a referral.

Everything about a transition lives in its row of TRANSITIONS: the statuses it leaves and
enters, who may take it, the inputs it needs (and the message when one is missing), the
times it stamps, whether it gives a counted slot back, what the parties are told, the
button's label and the page's "done" message. referral_transition is the only code that
changes a referral's status; views, the APIs, the FHIR API, admin and the sweep call it,
and the pages build their answer forms from the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import transaction
from django.db.models import Q, TextChoices
from django.utils import timezone

from config.errors import Conflict, DomainError
from directory import permissions
from directory.services import service_slot_return
from integrations.services import deliveries_create_for_event
from referrals.models import (
    OPEN_STATUSES,
    DeclineReason,
    Referral,
    ReferralEvent,
    Status,
)

logger = logging.getLogger(__name__)

SYSTEM = "system"  # who may take an action that no person takes (expiry, escalation)
ANSWERER = "answerer"  # staff of the receiving organisation
REFERRER = "referrer"  # staff of the referring organisation


@dataclass(frozen=True)
class Input:
    """One thing a person gives with an action, and where it is kept."""

    name: str  # referral_transition's keyword, and the page form's field
    field: str  # the Referral field it is stored in
    label: str  # the page form's label
    # Set when the action cannot be taken without it: the refusal's message.
    required: str = ""
    blank: str = ""  # the field's own message when it is left blank
    page_error: str = ""  # what the page shows beside the field when it is refused
    choices: type[TextChoices] | None = None
    event_column: str = "note"  # where the event carries it: "note" or "reason_code"
    # The field the API names in its 400 answer (the cancel API calls its note "reason").
    api_name: str = ""

    def problem(self, value: str) -> str | None:
        """What is wrong with this value for the field, or None."""
        if self.choices is not None and (value or self.required):
            if value not in self.choices.values:
                return f"One of: {', '.join(self.choices.values)}."
        elif self.required and not value.strip():
            return self.blank
        return None


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    actor: str
    label: str  # the button that takes it
    done: str  # what the page says once it is taken
    inputs: tuple[Input, ...] = ()
    stamps: tuple[str, ...] = ()  # Referral time fields set to the moment it is taken
    gives_slot_back: bool = False
    # From these statuses, first the named action is taken implicitly, with its own event
    # just before (accepting straight from sent records the acknowledgement).
    via: tuple[tuple[str, str], ...] = ()
    # Whether the parties hear of it (an outbox delivery). The implicit acknowledgement
    # is not sent on its own: the acceptance right after it says more.
    emits: bool = True
    # System actions: whether it is due for this referral now, and the event's reason
    # code and note, which no person writes.
    due: Callable[[Referral, datetime], bool] | None = None
    explain: Callable[[Referral, datetime], tuple[str, str]] | None = None
    # A time field set once, by a conditional UPDATE: of two sweeps racing for one
    # referral (no row locks on SQLite), exactly one takes the action and tells anyone.
    once: str = ""


def _is_overdue(referral: Referral, now: datetime) -> bool:
    if referral.status == Status.SENT and referral.acknowledge_due_at <= now:
        return True
    return referral.status in OPEN_STATUSES and referral.answer_due_at <= now


# The same rule as a query, for the sweep: the two forms side by side.
def _overdue_q(now: datetime) -> Q:
    return Q(status=Status.SENT, acknowledge_due_at__lte=now) | Q(
        status__in=OPEN_STATUSES, answer_due_at__lte=now
    )


def _expiry_reason(referral: Referral, now: datetime) -> tuple[str, str]:
    if referral.status == Status.SENT and referral.acknowledge_due_at <= now:
        minutes = referral.service.acknowledge_within_minutes
        return "not_acknowledged", f"Not acknowledged within {minutes} minutes."
    minutes = referral.service.answer_within_minutes
    return "not_answered", f"Not answered within {minutes} minutes."


def _is_escalation_due(referral: Referral, now: datetime) -> bool:
    return (
        referral.escalate_due_at is not None
        and referral.escalate_due_at <= now
        and referral.escalated_at is None
    )


def _escalation_reason(referral: Referral, now: datetime) -> tuple[str, str]:
    return "not_acknowledged", "No answer yet: the partner and the crew's organisation were told."


DECLINE_REASON = Input(
    "reason_code",
    field="decline_reason",
    label="Why are you declining?",
    required="Say why the referral is declined.",
    page_error="Select why you are declining the referral",
    choices=DeclineReason,
    event_column="reason_code",
)

# The state machine, in one place. Open (sent, acknowledged: no answer yet) is
# OPEN_STATUSES in referrals/models.py; a referral leaves it for good once closed.
TRANSITIONS: dict[str, Transition] = {
    rule.action: rule
    for rule in (
        Transition(
            "acknowledge",
            (Status.SENT,),
            Status.ACKNOWLEDGED,
            ANSWERER,
            label="Acknowledge",
            done="Referral acknowledged",
            stamps=("acknowledged_at",),
        ),
        Transition(
            "accept",
            OPEN_STATUSES,
            Status.ACCEPTED,
            ANSWERER,
            label="Accept",
            done="Referral accepted",
            stamps=("answered_at",),
            via=((Status.SENT, "acknowledge"),),
        ),
        Transition(
            "decline",
            OPEN_STATUSES,
            Status.DECLINED,
            ANSWERER,
            label="Decline",
            done="Referral declined",
            inputs=(
                DECLINE_REASON,
                Input("note", field="decline_note", label="Tell the crew more (optional)"),
            ),
            stamps=("answered_at", "closed_at"),
            gives_slot_back=True,
        ),
        Transition(
            "complete",
            (Status.ACCEPTED,),
            Status.COMPLETED,
            ANSWERER,
            label="Complete",
            done="Referral completed",
            inputs=(Input("outcome", field="outcome", label="Outcome"),),
            stamps=("closed_at",),
        ),
        Transition(
            "cancel",
            (*OPEN_STATUSES, Status.ACCEPTED),
            Status.CANCELLED,
            REFERRER,
            label="Cancel referral",
            done="Referral cancelled",
            inputs=(
                Input(
                    "note",
                    field="cancel_reason",
                    label="Why are you cancelling?",
                    required="Say why the referral is cancelled.",
                    blank="A reason is required.",
                    page_error="Enter why you are cancelling the referral",
                    api_name="reason",
                ),
            ),
            stamps=("closed_at",),
            gives_slot_back=True,
        ),
        Transition(
            "expire",
            OPEN_STATUSES,
            Status.EXPIRED,
            SYSTEM,
            label="Expire",
            done="Referral expired",
            stamps=("closed_at",),
            gives_slot_back=True,
            due=_is_overdue,
            explain=_expiry_reason,
        ),
        # Changes no status: an event on an unacknowledged referral past its urgency's
        # deadline, written once and told to both parties.
        Transition(
            "escalate",
            (Status.SENT,),
            Status.SENT,
            SYSTEM,
            label="Escalate",
            done="Referral escalated",
            due=_is_escalation_due,
            explain=_escalation_reason,
            once="escalated_at",
        ),
    )
}


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
        problem = wanted.problem(given.get(wanted.name, ""))
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


def emit(event: ReferralEvent) -> None:
    """Tell the parties of an event: the one call from referrals into the integrations app.

    The outbox row is written in the caller's transaction: the event and its delivery
    commit together or not at all.
    """
    deliveries_create_for_event(event=event)


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
    overdue = Referral.objects.filter(_overdue_q(now)).values_list("id", flat=True)
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
