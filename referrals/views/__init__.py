"""Referral pages; their code is moving to referrals/views/ modules by topic."""

from referrals.views.refer import (  # noqa: F401
    AnswerForm,
    crew_page,
    inbox,
    inbox_live,
    my_referrals,
    partner_page,
    partner_referral,
    refer,
    refer_problem,
    referral_cancel,
    referral_sending,
    referral_status,
    referral_status_live,
    refusal_text,
)
