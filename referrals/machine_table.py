"""The referral's transition table: every action a referral can take, as data.

Everything about a transition lives in its row of TRANSITIONS: the statuses it leaves and
enters, who may take it, the inputs it needs (and the message when one is missing), the
times it stamps, whether it gives a counted slot back, what the parties are told, the
button's label and the page's "done" message. referral_transition (referrals/machine.py)
is the only code that applies a row; the pages build their answer forms from the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, TextChoices

from referrals.models import OPEN_STATUSES, DeclineReason, Referral, Status

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
    max_length: int = 2000  # as the API's serializers allow, so the pages cannot store more
    # (input, value): required when that other input has that value, with `required` as the
    # refusal ("Other" alone tells the crew nothing).
    required_when: tuple[str, str] = ()

    def problem(self, value: str, given: Mapping[str, str] | None = None) -> str | None:
        """What is wrong with this value for the field, given the action's other inputs, or
        None."""
        if len(value) > self.max_length:
            return f"At most {self.max_length} characters (this has {len(value)})."
        if self.choices is not None and (value or self.required):
            if value not in self.choices.values:
                return f"One of: {', '.join(self.choices.values)}."
        elif self.required and not value.strip() and self._needed(given or {}):
            return self.blank
        return None

    def _needed(self, given: Mapping[str, str]) -> bool:
        if not self.required_when:
            return True
        other, value = self.required_when
        return given.get(other, "") == value

    def page_message(self, value: str, fallback: str) -> str:
        """What a page shows beside the field when `value` was refused: the page's own words
        for a missing or unknown answer, the limit itself for one too long."""
        if len(value) > self.max_length:
            return self.problem(value) or fallback
        return self.page_error or fallback


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


# The same rule as a query, for the sweep (referrals_expire_overdue): the two forms side by side.
def overdue_q(now: datetime) -> Q:
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
                Input(
                    "note",
                    field="decline_note",
                    label="Tell the crew more (needed for Other)",
                    required_when=("reason_code", DeclineReason.OTHER),
                    required="Say why the referral is declined: with Other, a note is needed.",
                    blank="A note is needed when the reason is Other.",
                    page_error="Tell the crew why you are declining",
                ),
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
