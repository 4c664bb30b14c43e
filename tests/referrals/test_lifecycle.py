"""A referral's whole life through the API, as the crew and the partner see it."""

import uuid

from directory.models import Service
from referrals.models import Referral

URL = "/api/v1/referrals/"


def _send(client, service):
    from tests.referrals.factories import referral_body

    answer = client.post(
        URL, referral_body(service), format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()["id"]


def test_it_runs_from_sent_to_completed(api_as, crew, partner, service):
    crew_api, partner_api = api_as(crew), api_as(partner)
    referral_id = _send(crew_api, service)

    inbox = partner_api.get(URL).json()["results"]
    assert [r["id"] for r in inbox] == [referral_id]
    assert inbox[0]["actions"] == ["acknowledge", "accept", "decline"]

    acknowledged = partner_api.post(f"{URL}{referral_id}/acknowledge/", {}, format="json")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["actions"] == ["accept", "decline"]

    accepted = partner_api.post(
        f"{URL}{referral_id}/accept/", {"note": "Visit at 3pm"}, format="json"
    )
    assert accepted.json()["status"] == "accepted"
    assert crew_api.get(f"{URL}{referral_id}/").json()["status"] == "accepted"

    completed = partner_api.post(
        f"{URL}{referral_id}/complete/", {"outcome": "Seen at home"}, format="json"
    )
    assert completed.json()["status"] == "completed"
    assert completed.json()["actions"] == []

    events = crew_api.get(f"{URL}{referral_id}/events/").json()
    assert [(e["type"], e["from_status"], e["to_status"]) for e in events] == [
        ("referral.created", "", "sent"),
        ("referral.acknowledged", "sent", "acknowledged"),
        ("referral.accepted", "acknowledged", "accepted"),
        ("referral.completed", "accepted", "completed"),
    ]
    assert events[1]["actor"] == partner.username
    assert events[1]["actor_organisation"] == partner.organisation.name
    assert events[2]["note"] == "Visit at 3pm"
    detail = crew_api.get(f"{URL}{referral_id}/").json()
    assert detail["outcome"] == "Seen at home"
    assert detail["closed_at"] and detail["acknowledged_at"] and detail["answered_at"]


def test_it_records_a_decline_with_its_reason(api_as, crew, partner, service):
    referral_id = _send(api_as(crew), service)
    answer = api_as(partner).post(
        f"{URL}{referral_id}/decline/",
        {"reason_code": "outside_area", "note": "Try the Camden team"},
        format="json",
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "declined"
    assert answer.json()["decline_reason"] == "outside_area"
    event = api_as(crew).get(f"{URL}{referral_id}/events/").json()[-1]
    assert (event["reason_code"], event["note"]) == ("outside_area", "Try the Camden team")


def test_a_decline_for_other_reasons_must_say_what_they_are(api_as, crew, partner, service):
    referral_id = _send(api_as(crew), service)
    answer = api_as(partner).post(
        f"{URL}{referral_id}/decline/", {"reason_code": "other", "note": " "}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == {
        "note": ["A note is needed when the reason is Other."]
    }
    assert api_as(crew).get(f"{URL}{referral_id}/").json()["status"] == "sent"


def test_it_needs_a_known_decline_reason(api_as, crew, partner, service):
    referral_id = _send(api_as(crew), service)
    answer = api_as(partner).post(
        f"{URL}{referral_id}/decline/", {"reason_code": "bored"}, format="json"
    )
    assert answer.status_code == 400
    assert "reason_code" in answer.json()["error"]["fields"]
    assert Referral.objects.get(pk=referral_id).status == "sent"


def test_it_lets_the_crew_cancel_with_a_reason(api_as, crew, service):
    referral_id = _send(api_as(crew), service)
    missing = api_as(crew).post(f"{URL}{referral_id}/cancel/", {}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()["error"]["fields"]
    answer = api_as(crew).post(
        f"{URL}{referral_id}/cancel/", {"reason": "Patient conveyed to ED"}, format="json"
    )
    assert answer.json()["status"] == "cancelled"
    assert Referral.objects.get(pk=referral_id).cancel_reason == "Patient conveyed to ED"


def test_it_gives_the_slot_back_on_decline_and_cancel_but_not_on_completion(
    api_as, crew, partner, service
):
    Service.objects.filter(pk=service.pk).update(capacity_slots=3)
    declined, cancelled, completed = (_send(api_as(crew), service) for _ in range(3))
    service.refresh_from_db()
    assert service.capacity_slots == 0

    api_as(partner).post(f"{URL}{declined}/decline/", {"reason_code": "duplicate"}, format="json")
    api_as(crew).post(f"{URL}{cancelled}/cancel/", {"reason": "Not needed"}, format="json")
    for action in ("acknowledge", "accept", "complete"):
        api_as(partner).post(f"{URL}{completed}/{action}/", {}, format="json")
    service.refresh_from_db()
    assert service.capacity_slots == 2
    assert not Referral.objects.get(pk=declined).holds_slot
    assert Referral.objects.get(pk=completed).holds_slot


def test_it_does_not_invent_slots_for_a_service_that_stopped_counting(
    api_as, crew, partner, service
):
    Service.objects.filter(pk=service.pk).update(capacity_slots=1)
    referral_id = _send(api_as(crew), service)
    Service.objects.filter(pk=service.pk).update(capacity_slots=None)
    api_as(partner).post(
        f"{URL}{referral_id}/decline/", {"reason_code": "no_capacity"}, format="json"
    )
    service.refresh_from_db()
    assert service.capacity_slots is None
