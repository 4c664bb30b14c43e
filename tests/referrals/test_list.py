"""GET /api/v1/referrals/: newest first, filtered by status, service and since."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Referral, Status
from tests.referrals.factories import referral_in

URL = "/api/v1/referrals/"


def _ids(answer) -> list[str]:
    assert answer.status_code == 200, answer.json()
    return [r["id"] for r in answer.json()["results"]]


def test_it_lists_newest_first(api_as, crew, partner, service):
    older = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    newer = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    Referral.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert _ids(api_as(crew).get(URL)) == [str(newer.pk), str(older.pk)]


def test_it_filters_by_status(api_as, crew, partner, service):
    sent = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    declined = referral_in(Status.DECLINED, crew=crew, partner=partner, service=service)
    accepted = referral_in(Status.ACCEPTED, crew=crew, partner=partner, service=service)
    assert _ids(api_as(crew).get(URL, {"status": "declined"})) == [str(declined.pk)]
    both = set(_ids(api_as(crew).get(f"{URL}?status=sent&status=accepted")))
    assert both == {str(sent.pk), str(accepted.pk)}


def test_it_filters_by_service(api_as, crew, partner, operator, service, other_service):
    mine = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    referral_in(Status.SENT, crew=crew, partner=partner, service=other_service)
    assert _ids(api_as(operator).get(URL, {"service": service.pk})) == [str(mine.pk)]


def test_it_filters_by_since(api_as, crew, partner, service):
    old = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    new = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _ids(api_as(crew).get(URL, {"since": since})) == [str(new.pk)]


def test_it_names_a_bad_filter(api_as, crew):
    answer = api_as(crew).get(URL, {"status": "lost", "since": "yesterday"})
    assert answer.status_code == 400
    assert set(answer.json()["error"]["fields"]) == {"status", "since"}


def test_it_shows_no_patient_details_in_the_list(api_as, crew, partner, service):
    referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    row = api_as(partner).get(URL).json()["results"][0]
    assert "patient" not in row
    assert row["age_band"] == "80+"
    assert row["service"]["id"] == service.pk


def test_it_refuses_a_service_id_past_a_bigint_naming_the_filter(api_as, crew):
    answer = api_as(crew).get("/api/v1/referrals/", {"service": "1" + "0" * 25})
    assert answer.status_code == 400
    assert "service" in answer.json()["error"]["fields"]


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_it_refuses_a_since_that_would_overflow_naming_the_filter(api_as, crew, since):
    answer = api_as(crew).get("/api/v1/referrals/", {"since": since})
    assert answer.status_code == 400
    assert "since" in answer.json()["error"]["fields"]
