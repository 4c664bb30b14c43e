"""The referral's state machine; its code is moving to referrals/machine_table.py."""

from referrals.machine_table import (  # noqa: F401
    ANSWERER,
    SYSTEM,
    TRANSITIONS,
    Input,
    Transition,
    answer_actions,
    emit,
    referral_actions_for,
    referral_transition,
    referrals_escalate_overdue,
    referrals_expire_overdue,
    refused_inputs,
)
