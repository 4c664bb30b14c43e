"""A slot a referral takes or gives back shows in the crews' search at once."""

import uuid

from directory.services import capacity_set
from tests.referrals.factories import referral_body

SEARCH = "/api/v1/services/search/"


def _search(client, service):
    answer = client.get(
        SEARCH,
        {
            "lat": service.location.latitude,
            "lon": service.location.longitude,
            "category": "falls",
            "explain": "true",
        },
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    listed = {r["id"]: r for r in body["results"]}
    excluded = {e["id"]: e for e in body["excluded"]}
    return listed, excluded


def test_it_shows_the_last_slot_taken_and_given_back(api_as, crew, partner, service):
    capacity_set(service=service, user=partner, status="GREEN", slots=1)
    listed, _ = _search(api_as(crew), service)
    assert listed[service.pk]["capacity"]["slots"] == 1

    created = api_as(crew).post(
        "/api/v1/referrals/",
        referral_body(service),
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert created.status_code == 201, created.json()
    listed, excluded = _search(api_as(crew), service)
    assert service.pk not in listed
    assert excluded[service.pk]["reason"] == "full"

    referral_id = created.json()["id"]
    declined = api_as(partner).post(
        f"/api/v1/referrals/{referral_id}/decline/",
        {"reason_code": "clinically_inappropriate", "note": "Needs a GP visit instead."},
        format="json",
    )
    assert declined.status_code == 200, declined.json()
    listed, _ = _search(api_as(crew), service)
    assert listed[service.pk]["capacity"]["slots"] == 1
