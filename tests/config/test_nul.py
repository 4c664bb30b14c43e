"""A NUL character in any text is refused with 400 naming the field, and nothing changes."""

import pytest

from referrals.models import Referral, Status
from tests.factories import ServiceFactory
from tests.referrals.factories import referral_body, referral_in


@pytest.fixture
def service(provider):
    return ServiceFactory(organisation=provider, name="Alpha Falls Response")


def test_it_refuses_a_nul_in_a_cancel_reason_naming_the_field(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = api_as(crew).post(
        f"/api/v1/referrals/{referral.id}/cancel/", {"reason": "gone\x00"}, format="json"
    )
    assert answer.status_code == 400
    assert "reason" in answer.json()["error"]["fields"]
    referral.refresh_from_db()
    assert referral.status == Status.SENT
    assert referral.cancel_reason == ""


def test_it_refuses_a_nul_deep_in_a_new_referral_naming_the_field(api_as, crew, service):
    body = referral_body(service)
    body["patient"]["given_name"] = "Ann\x00"
    answer = api_as(crew).post(
        "/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-nul-1"
    )
    assert answer.status_code == 400
    assert "patient.given_name" in answer.json()["error"]["fields"]
    assert Referral.objects.count() == 0


def test_it_refuses_a_nul_in_a_json_key(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = api_as(crew).post(
        f"/api/v1/referrals/{referral.id}/cancel/", {"reason\x00": "x"}, format="json"
    )
    assert answer.status_code == 400


def test_it_refuses_a_nul_in_a_query_parameter(api_as, crew, service):
    answer = api_as(crew).get("/api/v1/services/", {"q": "falls\x00"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["fields"] == {"q": ["Must not contain the NUL character."]}


def test_the_open_directory_api_refuses_a_nul_in_its_own_json_shape(client):
    answer = client.get("/hsds/services", {"name": "falls\x00"})
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == {"name": ["Must not contain the NUL character."]}
