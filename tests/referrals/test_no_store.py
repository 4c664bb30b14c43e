"""Responses carrying patient details tell browsers and proxies not to keep them."""

from django.test import Client

from referrals.models import Status
from tests.referrals.factories import referral_in


def _page(user, url):
    client = Client()
    client.force_login(user)
    return client.get(url)


def test_the_api_detail_is_not_stored(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = api_as(partner).get(f"/api/v1/referrals/{referral.pk}/")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]


def test_the_api_events_are_not_stored(api_as, crew, partner, service):
    referral = referral_in(Status.DECLINED, crew=crew, partner=partner, service=service)
    answer = api_as(crew).get(f"/api/v1/referrals/{referral.pk}/events/")
    assert "no-store" in answer["Cache-Control"]


def test_the_partner_referral_page_is_not_stored(crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = _page(partner, f"/inbox/{referral.pk}/")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]


def test_the_crew_referral_page_is_not_stored(crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = _page(crew, f"/referrals/{referral.pk}/")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
