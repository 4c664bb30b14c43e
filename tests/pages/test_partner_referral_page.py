import pytest

from referrals.models import PatientAccess, Referral, ReferralEvent, Status
from tests.referrals.factories import referral_in


def _answer(client, referral, action, **fields):
    data = {"answer-action": action, **{f"answer-{k}": v for k, v in fields.items()}}
    return client.post(f"/inbox/{referral.id}/", data)


def test_it_shows_the_patient_and_records_the_read(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    page = as_user(partner).get(f"/inbox/{referral.id}/").content.decode()
    assert "Ada Testperson" in page
    assert "Fall at home, no head injury" in page
    access = PatientAccess.objects.get()
    assert (access.user, access.channel, access.referral) == (partner, "page", referral)


def test_it_answers_404_to_another_organisations_partner(
    as_user, crew, partner, other_partner, service
):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(other_partner)
    assert client.get(f"/inbox/{referral.id}/").status_code == 404
    assert _answer(client, referral, "accept").status_code == 404
    assert not PatientAccess.objects.filter(outcome="granted").exists()
    denied = PatientAccess.objects.get(outcome="denied")  # the page's refused read
    assert (denied.username, denied.referral_ref) == (other_partner.username, referral.id)
    assert Referral.objects.get().status == Status.SENT


def test_it_keeps_the_partner_page_from_crews(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    assert as_user(crew).get(f"/inbox/{referral.id}/").status_code == 403


@pytest.mark.parametrize(
    "status, offered, not_offered",
    [
        # Accepting straight from sent is legal: the acknowledgement is recorded with it.
        (Status.SENT, ["Acknowledge", ">Accept<", "Decline this referral"], [">Complete<"]),
        (Status.ACKNOWLEDGED, [">Accept<", "Decline this referral"], ["Acknowledge<"]),
        (Status.ACCEPTED, [">Complete<"], [">Accept<", "Decline this referral"]),
        (Status.COMPLETED, [], [">Accept<", ">Complete<", "Decline this referral"]),
    ],
)
def test_it_offers_only_the_legal_answers(
    as_user, crew, partner, service, status, offered, not_offered
):
    referral = referral_in(status, crew=crew, partner=partner, service=service)
    page = as_user(partner).get(f"/inbox/{referral.id}/").content.decode()
    for text in offered:
        assert text in page
    for text in not_offered:
        assert text not in page


def test_it_acknowledges_accepts_and_completes(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(partner)
    assert _answer(client, referral, "acknowledge").status_code == 302
    assert _answer(client, referral, "accept").status_code == 302
    answer = _answer(client, referral, "complete", outcome="Seen at home, care plan made")
    referral.refresh_from_db()
    assert referral.status == Status.COMPLETED
    assert referral.outcome == "Seen at home, care plan made"
    assert "Referral completed" in client.get(answer["Location"]).content.decode()


def test_it_declines_with_a_reason(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    _answer(as_user(partner), referral, "decline", reason_code="no_capacity", note="Full today")
    referral.refresh_from_db()
    assert referral.status == Status.DECLINED
    assert (referral.decline_reason, referral.decline_note) == ("no_capacity", "Full today")


def test_it_asks_for_a_reason_to_decline_and_changes_nothing(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = _answer(as_user(partner), referral, "decline", note="Full today")
    page = answer.content.decode()
    assert answer.status_code == 400
    assert "Select why you are declining the referral" in page
    assert 'value="no_capacity"' in page
    assert Referral.objects.get().status == Status.SENT


def test_it_asks_what_the_other_reason_is_and_changes_nothing(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = _answer(as_user(partner), referral, "decline", reason_code="other")
    assert answer.status_code == 400
    assert "Tell the crew why you are declining" in answer.content.decode()
    assert Referral.objects.get().status == Status.SENT


def test_it_refuses_an_illegal_answer_and_changes_nothing(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = _answer(as_user(partner), referral, "complete", outcome="x")
    assert answer.status_code == 409
    assert "cannot be completed" in answer.content.decode()
    assert Referral.objects.get().status == Status.SENT
    assert ReferralEvent.objects.count() == 1
