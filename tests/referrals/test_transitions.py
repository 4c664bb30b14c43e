"""Every transition the state machine does not allow is refused and changes nothing."""

import pytest

from config.errors import DomainError
from directory.models import Service
from referrals import services
from referrals.models import Referral, ReferralEvent, Status
from referrals.services import TRANSITIONS
from tests.referrals.factories import referral_in

URL = "/api/v1/referrals/"

ALLOWED = {
    (Status.SENT, "acknowledge"),
    (Status.SENT, "decline"),
    (Status.SENT, "cancel"),
    (Status.SENT, "accept"),  # the acknowledgement is recorded just before
    (Status.ACKNOWLEDGED, "accept"),
    (Status.ACKNOWLEDGED, "decline"),
    (Status.ACKNOWLEDGED, "cancel"),
    (Status.ACCEPTED, "complete"),
    (Status.ACCEPTED, "cancel"),
}
API_ACTIONS = ["acknowledge", "accept", "decline", "complete", "cancel"]
ILLEGAL = [(s, a) for s in Status.values for a in API_ACTIONS if (s, a) not in ALLOWED]
BODIES = {"decline": {"reason_code": "other", "note": "x"}, "cancel": {"reason": "x"}}


def test_the_table_is_the_documented_state_machine():
    system = {"expire", "escalate"}
    table = {(s, a) for a, rule in TRANSITIONS.items() if a not in system for s in rule.sources}
    assert table == ALLOWED
    assert set(TRANSITIONS["expire"].sources) == {Status.SENT, Status.ACKNOWLEDGED}
    assert (TRANSITIONS["escalate"].sources, TRANSITIONS["escalate"].target) == (
        (Status.SENT,),
        Status.SENT,
    )


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_it_refuses_an_illegal_transition_with_409_and_changes_nothing(
    api_as, crew, partner, service, status, action
):
    Service.objects.filter(pk=service.pk).update(capacity_slots=5)
    referral = referral_in(status, crew=crew, partner=partner, service=service)
    before = Referral.objects.get(pk=referral.pk)
    slots = Service.objects.get(pk=service.pk).capacity_slots
    events = ReferralEvent.objects.count()
    user = crew if action == "cancel" else partner

    answer = api_as(user).post(
        f"{URL}{referral.pk}/{action}/", BODIES.get(action, {}), format="json"
    )

    assert answer.status_code == 409, answer.json()
    assert answer.json()["error"]["code"] == "illegal_transition"
    assert answer.json()["error"]["status"] == status
    after = Referral.objects.get(pk=referral.pk)
    assert (after.status, after.updated_at, after.holds_slot) == (
        before.status,
        before.updated_at,
        before.holds_slot,
    )
    assert ReferralEvent.objects.count() == events
    assert Service.objects.get(pk=service.pk).capacity_slots == slots


@pytest.mark.parametrize(
    "status", [Status.ACCEPTED, Status.DECLINED, Status.COMPLETED, Status.CANCELLED, Status.EXPIRED]
)
def test_the_system_cannot_expire_an_answered_or_closed_referral(crew, partner, service, status):
    from datetime import timedelta

    from django.utils import timezone

    from config.errors import Conflict

    referral = referral_in(status, crew=crew, partner=partner, service=service)
    with pytest.raises(Conflict):
        services.referral_transition(
            referral_id=referral.pk,
            user=None,
            action="expire",
            now=timezone.now() + timedelta(days=2),
        )
    assert Referral.objects.get(pk=referral.pk).status == status


def test_a_person_cannot_expire_a_referral(api_as, crew, partner, operator, service):
    from datetime import timedelta

    from django.utils import timezone

    from config.errors import DomainError

    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    with pytest.raises(DomainError) as refused:
        services.referral_transition(
            referral_id=referral.pk,
            user=operator,
            action="expire",
            now=timezone.now() + timedelta(days=2),
        )
    assert refused.value.status_code == 403
    assert Referral.objects.get(pk=referral.pk).status == Status.SENT


def test_it_offers_only_the_actions_each_party_may_take(crew, partner, other_partner, service):
    referral = referral_in(Status.ACKNOWLEDGED, crew=crew, partner=partner, service=service)
    assert services.referral_actions_for(user=partner, referral=referral) == ["accept", "decline"]
    assert services.referral_actions_for(user=crew, referral=referral) == ["cancel"]
    assert services.referral_actions_for(user=other_partner, referral=referral) == []


def test_a_page_cannot_store_a_longer_note_than_the_api_allows(crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    with pytest.raises(DomainError) as refused:
        services.referral_transition(
            referral_id=referral.pk, user=crew, action="cancel", note="x" * 2001
        )
    assert "2000" in refused.value.fields["reason"][0]
    assert Referral.objects.get(pk=referral.pk).status == Status.SENT
