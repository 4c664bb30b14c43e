"""A service that visits patients at home is told where: its referrals must give the address."""

import uuid

from referrals.models import Referral
from tests.factories import ServiceFactory
from tests.referrals.factories import referral_body

URL = "/api/v1/referrals/"


def _post(client, body):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def _without_address(service) -> dict:
    body = referral_body(service)
    body["patient"]["address"] = "  "
    return body


def test_it_refuses_a_home_visit_referral_without_the_address_and_writes_nothing(
    api_as, crew, provider
):
    visiting = ServiceFactory(organisation=provider, visits_at_home=True)
    answer = _post(api_as(crew), _without_address(visiting))
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "address_required"
    assert "address" in error["fields"]["patient"]
    assert Referral.objects.count() == 0


def test_it_takes_a_home_visit_referral_with_the_address(api_as, crew, provider):
    visiting = ServiceFactory(organisation=provider, visits_at_home=True)
    assert _post(api_as(crew), referral_body(visiting)).status_code == 201


def test_it_takes_a_referral_without_an_address_where_the_patient_comes_in(api_as, crew, service):
    assert _post(api_as(crew), _without_address(service)).status_code == 201
