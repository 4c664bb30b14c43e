"""Every event a party must hear of becomes a Delivery in the event's own transaction."""

import json

import pytest
from django.db import transaction

from integrations import outbox
from integrations.models import Delivery, Endpoint
from tests.integrations.conftest import PATIENT_DETAILS, answer, make_endpoint, make_referral


@pytest.fixture
def partner_endpoint(provider):
    return make_endpoint(provider)


@pytest.fixture
def crew_endpoint(ambulance_trust):
    return make_endpoint(ambulance_trust, url="https://trust.invalid/answers")


def test_it_tells_the_receiving_organisation_of_a_new_referral(
    crew, service, partner_endpoint, crew_endpoint
):
    referral = make_referral(crew, service)
    delivery = Delivery.objects.get()
    assert delivery.endpoint == partner_endpoint
    assert delivery.event_type == "referral.created"
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.next_attempt_at is not None
    assert delivery.message_id.startswith("msg_")
    assert delivery.payload["data"]["referral_id"] == str(referral.pk)
    assert delivery.payload["data"]["service_id"] == service.pk
    assert delivery.payload["data"]["status"] == "sent"
    assert delivery.payload["data"]["api_url"] == (
        f"https://frontdoor.test/api/v1/referrals/{referral.pk}/"
    )


def test_it_tells_the_referring_organisation_of_the_partners_answers(
    crew, partner, service, partner_endpoint, crew_endpoint
):
    referral = make_referral(crew, service)
    answer(referral, partner, "acknowledge")
    answer(referral, partner, "accept")
    answer(referral, partner, "complete", outcome="Seen at home")
    to_crew = Delivery.objects.filter(endpoint=crew_endpoint).order_by("id")
    assert [d.event_type for d in to_crew] == [
        "referral.acknowledged",
        "referral.accepted",
        "referral.completed",
    ]
    assert Delivery.objects.filter(endpoint=partner_endpoint).count() == 1


def test_it_tells_the_receiving_organisation_of_a_cancellation(
    crew, service, partner_endpoint, crew_endpoint
):
    referral = make_referral(crew, service)
    answer(referral, crew, "cancel", note="Patient conveyed to ED")
    to_partner = Delivery.objects.filter(endpoint=partner_endpoint).order_by("id")
    assert [d.event_type for d in to_partner] == ["referral.created", "referral.cancelled"]
    assert not Delivery.objects.filter(endpoint=crew_endpoint).exists()


def test_it_tells_both_sides_when_a_referral_expires(
    crew, service, partner_endpoint, crew_endpoint
):
    referral = make_referral(crew, service)
    answer(referral, None, "expire", now=referral.acknowledge_due_at)
    expired = Delivery.objects.filter(event_type="referral.expired")
    assert {d.endpoint for d in expired} == {partner_endpoint, crew_endpoint}


def test_it_writes_one_delivery_per_active_endpoint(crew, service, provider, partner_endpoint):
    make_endpoint(provider, kind=Endpoint.Kind.EMAIL)
    make_endpoint(provider, url="https://off.invalid/", active=False)
    make_referral(crew, service)
    assert Delivery.objects.count() == 2
    assert {d.endpoint.kind for d in Delivery.objects.all()} == {"webhook", "email"}


def test_it_leaves_no_delivery_when_the_event_is_rolled_back(crew, service, partner_endpoint):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_referral(crew, service)
        assert Delivery.objects.count() == 1
        raise RuntimeError("something later in the same transaction failed")
    assert Delivery.objects.count() == 0


def test_it_puts_no_patient_details_in_the_payload(crew, service, partner_endpoint):
    make_referral(crew, service)
    payload = json.dumps(Delivery.objects.get().payload)
    for detail in PATIENT_DETAILS:
        assert detail not in payload


def test_it_gives_each_delivery_its_own_message_id(crew, service, partner_endpoint):
    make_referral(crew, service)
    make_referral(crew, service)
    assert len({d.message_id for d in Delivery.objects.all()}) == 2


def test_it_writes_a_test_delivery_for_one_endpoint(partner_endpoint):
    delivery = outbox.delivery_create(
        endpoint=partner_endpoint, event_type="endpoint.test", payload={"type": "endpoint.test"}
    )
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.event is None
    assert delivery.payload == {"type": "endpoint.test"}
