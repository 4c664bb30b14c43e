"""The state machine is its table: what a row says is what a transition does, and the
pages and the broker read the same rows and the same meaning of "open"."""

import pytest
from django.test import Client

from config.errors import DomainError
from referrals import machine
from referrals.models import CLOSED_STATUSES, OPEN, OPEN_STATUSES, Referral, Status
from referrals.views.partner import AnswerForm
from tests.referrals.factories import referral_in

ALL = [status.value for status in Status]


def test_it_stamps_closed_at_on_exactly_the_transitions_into_a_closed_status():
    for rule in machine.TRANSITIONS.values():
        assert ("closed_at" in rule.stamps) == (rule.target in CLOSED_STATUSES), rule.action


def test_it_gives_a_slot_back_when_a_referral_ends_without_the_patient_taken_in():
    giving_back = {rule.target for rule in machine.TRANSITIONS.values() if rule.gives_slot_back}
    assert giving_back == {Status.DECLINED, Status.CANCELLED, Status.EXPIRED}


def test_it_expires_declines_and_accepts_only_open_referrals():
    for action in ("expire", "decline", "accept"):
        assert set(machine.TRANSITIONS[action].sources) == set(OPEN_STATUSES), action


def test_it_lets_the_crew_cancel_until_the_referral_is_closed():
    cancellable = set(machine.TRANSITIONS["cancel"].sources)
    assert cancellable == set(ALL) - set(CLOSED_STATUSES)


@pytest.mark.parametrize("status", ALL)
def test_it_agrees_on_open_and_closed_in_python_and_in_the_database(status, crew, partner, service):
    referral = referral_in(status, crew=crew, partner=partner, service=service)
    assert Referral.objects.filter(OPEN, pk=referral.pk).exists() == referral.is_open
    assert referral.is_closed == (status in CLOSED_STATUSES)
    assert not (referral.is_open and referral.is_closed)


def test_it_stores_each_input_in_the_field_its_row_names(crew, partner, service):
    referral = referral_in("sent", crew=crew, partner=partner, service=service)
    machine.referral_transition(
        referral_id=referral.pk,
        user=partner,
        action="decline",
        reason_code="outside_area",
        note="We cover Lambeth only",
    )
    referral.refresh_from_db()
    event = referral.events.last()
    assert (referral.decline_reason, referral.decline_note) == (
        "outside_area",
        "We cover Lambeth only",
    )
    assert (event.reason_code, event.note) == ("outside_area", "We cover Lambeth only")
    assert referral.answered_at == referral.closed_at is not None


def test_it_refuses_a_missing_required_input_with_the_rows_message(crew, service):
    referral = referral_in("sent", crew=crew, partner=None, service=service)
    with pytest.raises(DomainError) as refused:
        machine.referral_transition(referral_id=referral.pk, user=crew, action="cancel", note=" ")
    assert refused.value.message == machine.TRANSITIONS["cancel"].inputs[0].required
    assert refused.value.fields == {"reason": ["A reason is required."]}


def test_it_builds_the_partners_answer_form_from_the_table():
    form = AnswerForm()
    answers = machine.answer_actions(machine.ANSWERER)
    assert [value for value, _ in form.fields["action"].choices] == [r.action for r in answers]
    inputs = {wanted.name: wanted for rule in answers for wanted in rule.inputs}
    assert set(form.fields) - {"action"} == set(inputs)
    assert form.fields["reason_code"].label == inputs["reason_code"].label


def test_it_says_the_rows_done_message_after_a_partner_answers(crew, partner, service):
    referral = referral_in("sent", crew=crew, partner=partner, service=service)
    browser = Client()
    browser.force_login(partner)
    answer = browser.post(
        f"/inbox/{referral.pk}/", {"answer-action": "accept"}, follow=True
    ).content.decode()
    assert machine.TRANSITIONS["accept"].done in answer
