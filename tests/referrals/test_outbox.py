"""Every event a party must hear of is written to the delivery outbox with the event."""

import uuid

from directory.models import Service
from integrations.models import Delivery, Endpoint
from referrals.models import Status
from tests.referrals.factories import referral_body, referral_in

URL = "/api/v1/referrals/"


def _endpoint(organisation):
    return Endpoint.objects.create(
        organisation=organisation, kind=Endpoint.Kind.WEBHOOK, url="https://example.invalid/hook"
    )


def test_a_new_referral_is_queued_for_the_receiving_organisation(api_as, crew, provider, service):
    endpoint = _endpoint(provider)
    answer = api_as(crew).post(
        URL, referral_body(service), format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    delivery = Delivery.objects.get()
    assert delivery.endpoint == endpoint
    assert delivery.event_type == "referral.created"
    assert delivery.event.referral_id == uuid.UUID(answer.json()["id"])


def test_an_answer_is_queued_for_the_referring_organisation(
    api_as, crew, partner, ambulance_trust, service
):
    endpoint = _endpoint(ambulance_trust)
    referral = referral_in(Status.ACKNOWLEDGED, crew=crew, partner=partner, service=service)
    api_as(partner).post(f"{URL}{referral.pk}/accept/", {}, format="json")
    assert [d.event_type for d in Delivery.objects.filter(endpoint=endpoint)][0] == (
        "referral.accepted"
    )


def test_a_refused_request_queues_nothing(api_as, crew, partner, provider, service):
    _endpoint(provider)
    Service.objects.filter(pk=service.pk).update(capacity_slots=0)
    api_as(crew).post(
        URL, referral_body(service), format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    assert not Delivery.objects.exists()
