import re
from datetime import timedelta

from django.utils import timezone

from referrals import services
from referrals.models import PatientAccess, Referral, Status
from tests.referrals.factories import referral_in


def test_it_shows_the_status_and_timeline(as_user, crew, partner, service):
    referral = referral_in(Status.ACKNOWLEDGED, crew=crew, partner=partner, service=service)
    page = as_user(crew).get(f"/referrals/{referral.id}/").content.decode()
    assert 'data-status="acknowledged"' in page
    assert "Ada Testperson" in page
    assert page.count("fd-timeline__item") == 2
    assert f'data-live-url="/referrals/{referral.id}/live/"' in page


def test_it_records_the_read_of_the_patients_details(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    as_user(crew).get(f"/referrals/{referral.id}/")
    access = PatientAccess.objects.get(referral=referral)
    assert access.user == crew
    assert access.channel == PatientAccess.Channel.PAGE


def test_it_answers_the_live_poll_with_the_timeline_and_no_patient_details(
    as_user, crew, partner, service
):
    referral = referral_in(Status.ACCEPTED, crew=crew, partner=partner, service=service)
    answer = as_user(crew).get(f"/referrals/{referral.id}/live/").json()
    assert answer["status"] == "accepted"
    assert answer["done"] is False
    assert 'data-status="accepted"' in answer["html"]
    assert "Ada" not in answer["html"] and "Testperson" not in answer["html"]
    assert PatientAccess.objects.count() == 0


def test_it_stops_the_poll_once_the_referral_is_closed(as_user, crew, partner, service):
    referral = referral_in(Status.DECLINED, crew=crew, partner=partner, service=service)
    assert as_user(crew).get(f"/referrals/{referral.id}/live/").json()["done"] is True
    page = as_user(crew).get(f"/referrals/{referral.id}/").content.decode()
    assert 'data-live-done="true"' in page
    assert "Duplicate referral" in page


def test_it_answers_404_to_a_crew_of_another_trust(as_user, crew, partner, service, db):
    from directory.models import Organisation, Role
    from tests.factories import OrganisationFactory, UserFactory

    trust = OrganisationFactory(kind=Organisation.Kind.AMBULANCE_TRUST)
    stranger = UserFactory(organisation=trust, role=Role.CREW)
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    assert as_user(stranger).get(f"/referrals/{referral.id}/").status_code == 404
    assert as_user(stranger).get(f"/referrals/{referral.id}/live/").status_code == 404
    answer = as_user(stranger).post(f"/referrals/{referral.id}/cancel/", {"reason": "x"})
    assert answer.status_code == 404
    assert not PatientAccess.objects.filter(outcome="granted").exists()
    assert PatientAccess.objects.filter(outcome="denied", user=stranger).count() == 1


def test_it_cancels_with_a_reason(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    answer = client.post(f"/referrals/{referral.id}/cancel/", {"reason": "Patient conveyed"})
    assert answer.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.CANCELLED
    assert referral.cancel_reason == "Patient conveyed"
    page = client.get(answer["Location"]).content.decode()
    assert "Referral cancelled" in page
    assert "Cancel this referral" not in page


def test_it_asks_for_a_reason_to_cancel_and_changes_nothing(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    answer = client.post(f"/referrals/{referral.id}/cancel/", {"reason": "  "})
    page = client.get(answer["Location"]).content.decode()
    assert '<a href="#cancel-reason">Enter why you are cancelling the referral</a>' in page
    referral.refresh_from_db()
    assert referral.status == Status.SENT


def test_it_says_a_cancel_reason_is_too_long_and_changes_nothing(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    answer = client.post(f"/referrals/{referral.id}/cancel/", {"reason": "x" * 3000})
    page = client.get(answer["Location"]).content.decode()
    assert "At most 2000 characters (this has 3000)." in page
    referral.refresh_from_db()
    assert (referral.status, referral.cancel_reason) == (Status.SENT, "")


def test_it_does_not_offer_cancel_once_completed(as_user, crew, partner, service):
    referral = referral_in(Status.COMPLETED, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    assert "Cancel this referral" not in client.get(f"/referrals/{referral.id}/").content.decode()
    answer = client.post(f"/referrals/{referral.id}/cancel/", {"reason": "late"})
    page = client.get(answer["Location"]).content.decode()
    assert "cannot be cancelled" in page
    referral.refresh_from_db()
    assert referral.status == Status.COMPLETED


def test_it_keeps_the_status_page_to_crews(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    assert as_user(partner).get(f"/referrals/{referral.id}/").status_code == 403


def test_it_lists_todays_referrals_of_the_crews_organisation_newest_first(
    as_user, crew, partner, service
):
    older = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    newer = referral_in(Status.ACCEPTED, crew=crew, partner=partner, service=service)
    yesterday = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    Referral.objects.filter(pk=yesterday.pk).update(created_at=timezone.now() - timedelta(days=2))
    page = as_user(crew).get("/referrals/").content.decode()
    assert page.index(f"/referrals/{newer.id}/") < page.index(f"/referrals/{older.id}/")
    assert f"/referrals/{yesterday.id}/" not in page
    assert 'data-status="accepted"' in page


def test_it_answers_an_unchanged_poll_with_no_content(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    page = client.get(f"/referrals/{referral.id}/").content.decode()
    version = re.search(r'data-live-version="([^"]+)"', page).group(1)
    unchanged = client.get(f"/referrals/{referral.id}/live/", {"v": version})
    assert unchanged.status_code == 204
    assert unchanged.content == b""


def test_it_answers_a_poll_after_a_change_with_the_new_status_and_version(
    as_user, crew, partner, service
):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    before = client.get(f"/referrals/{referral.id}/live/").json()
    services.referral_transition(referral_id=referral.id, user=partner, action="acknowledge")
    after = client.get(f"/referrals/{referral.id}/live/", {"v": before["version"]})
    assert after.status_code == 200
    assert after.json()["status"] == "acknowledged"
    assert after.json()["version"] != before["version"]
    again = client.get(f"/referrals/{referral.id}/live/", {"v": after.json()["version"]})
    assert again.status_code == 204


def test_it_marks_the_cancel_control_with_its_action_for_the_live_update(
    as_user, crew, partner, service
):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    assert 'data-action="cancel"' in client.get(f"/referrals/{referral.id}/").content.decode()
    assert client.get(f"/referrals/{referral.id}/live/").json()["actions"] == ["cancel"]


def test_it_tells_the_page_cancel_is_gone_once_declined(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client = as_user(crew)
    services.referral_transition(
        referral_id=referral.id, user=partner, action="decline", reason_code="no_capacity"
    )
    answer = client.get(f"/referrals/{referral.id}/live/").json()
    assert answer["actions"] == []
    assert answer["done"] is True


def test_it_keeps_polling_an_accepted_referral_that_may_still_be_completed(
    as_user, crew, partner, service
):
    referral = referral_in(Status.ACCEPTED, crew=crew, partner=partner, service=service)
    page = as_user(crew).get(f"/referrals/{referral.id}/").content.decode()
    assert 'data-live-done="true"' not in page
    assert "Cancel referral" in page  # the button's label from the transition table
