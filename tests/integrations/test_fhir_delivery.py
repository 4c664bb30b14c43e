"""FHIR endpoints get a signed BaRS-style message Bundle that parses back as FHIR R4."""

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from standardwebhooks import Webhook

from integrations import sending
from integrations.models import Delivery, Endpoint
from tests.integrations.conftest import PATIENT_DETAILS, answer, make_endpoint, make_referral


@pytest.fixture
def fhir_endpoint(provider, receiver):
    return make_endpoint(provider, url=receiver.url, kind=Endpoint.Kind.FHIR)


def test_it_sends_a_signed_message_bundle(crew, service, fhir_endpoint, receiver):
    referral = make_referral(crew, service)
    sent = sending.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert sent.status == Delivery.Status.DELIVERED

    (request,) = receiver.received
    assert request.headers["content-type"] == "application/fhir+json"
    Webhook(fhir_endpoint.secret).verify(request.body, request.headers)
    bundle = Bundle.model_validate_json(request.body)
    assert bundle.type == "message"
    header, service_request = (entry.resource for entry in bundle.entry)
    assert header.get_resource_type() == "MessageHeader"
    assert header.eventCoding.code == "servicerequest-request"
    assert header.focus[0].reference == bundle.entry[1].fullUrl
    assert service_request.get_resource_type() == "ServiceRequest"
    assert service_request.id == str(referral.pk)
    assert service_request.status == "active"
    assert service_request.intent == "order"
    assert service_request.priority == "asap"
    assert service_request.category[0].coding[0].code == "falls"
    assert service_request.performer[0].identifier.value == service.organisation.ods_code
    assert service_request.requester.identifier.value == crew.organisation.ods_code


def test_it_carries_no_patient_details(crew, service, fhir_endpoint, receiver):
    make_referral(crew, service)
    sending.delivery_send(delivery_id=Delivery.objects.get().pk)
    body = receiver.received[0].body.decode()
    for detail in PATIENT_DETAILS:
        assert detail not in body
    assert "Patient" in json.loads(body)["entry"][1]["resource"]["subject"]["type"]


def test_it_marks_a_cancelled_referral_revoked(crew, service, fhir_endpoint):
    referral = make_referral(crew, service)
    answer(referral, crew, "cancel", note="Conveyed")
    cancelled = Delivery.objects.get(event_type="referral.cancelled")
    bundle = Bundle.model_validate(cancelled.payload)
    assert bundle.entry[1].resource.status == "revoked"
