"""A partner that chose the full message gets a BaRS-style Bundle with the patient, audited."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from standardwebhooks import Webhook

from integrations import sending
from integrations.models import Delivery, Endpoint
from referrals.models import PatientAccess
from tests.integrations.conftest import PATIENT, answer, make_endpoint, make_referral
from tests.integrations.receiver import Answer, Receiver


@pytest.fixture
def full_endpoint(provider, receiver):
    return make_endpoint(provider, url=receiver.url, kind=Endpoint.Kind.FHIR, full_message=True)


def send_all(now=None):
    for delivery in Delivery.objects.filter(status=Delivery.Status.PENDING).order_by("id"):
        sending.delivery_send(delivery_id=delivery.pk, now=now)


def resources(bundle: Bundle) -> dict[str, list]:
    found: dict[str, list] = {}
    for entry in bundle.entry:
        found.setdefault(entry.resource.get_resource_type(), []).append(entry)
    return found


def test_it_sends_a_new_referral_as_a_full_bars_message(crew, service, full_endpoint, receiver):
    referral = make_referral(crew, service)
    send_all()

    (request,) = receiver.received
    assert request.headers["content-type"] == "application/fhir+json"
    Webhook(full_endpoint.secret).verify(request.body, request.headers)
    assert request.headers["x-correlation-id"] == str(referral.pk)
    assert request.headers["x-request-id"]
    bundle = Bundle.model_validate_json(request.body)
    assert bundle.type == "message"
    found = resources(bundle)

    header = bundle.entry[0].resource
    assert header.get_resource_type() == "MessageHeader"
    assert header.eventCoding.code == "servicerequest-request"
    assert header.reason.coding[0].code == "new"
    assert header.destination[0].endpoint == receiver.url
    assert header.source.name == "frontdoor"
    (request_entry,) = found["ServiceRequest"]
    assert header.focus[0].reference == request_entry.fullUrl

    service_request = request_entry.resource
    assert service_request.id == str(referral.pk)
    assert service_request.status == "active"
    assert service_request.category[0].coding[0].code == "falls"
    assert service_request.reasonCode[0].text == "fell in the garden"
    assert service_request.occurrencePeriod.start is not None

    (patient_entry,) = found["Patient"]
    patient = patient_entry.resource
    assert service_request.subject.reference == patient_entry.fullUrl
    assert patient.identifier[0].system == "https://fhir.nhs.uk/Id/nhs-number"
    assert patient.identifier[0].value == PATIENT["nhs_number"]
    assert patient.name[0].family == PATIENT["family_name"]
    assert patient.name[0].given == [PATIENT["given_name"]]
    assert patient.birthDate == PATIENT["date_of_birth"]
    assert patient.gender == "female"
    assert patient.address[0].postalCode == PATIENT["postcode"]
    assert patient.telecom[0].value == PATIENT["phone"]

    (encounter_entry,) = found["Encounter"]
    assert service_request.encounter.reference == encounter_entry.fullUrl
    organisations = {e.fullUrl: e.resource for e in found["Organization"]}
    requester = organisations[service_request.requester.reference]
    assert requester.identifier[0].value == crew.organisation.ods_code
    performers = [p.reference for p in service_request.performer]
    assert organisations[performers[0]].identifier[0].value == service.organisation.ods_code
    (healthcare_entry,) = found["HealthcareService"]
    assert performers[1] == healthcare_entry.fullUrl
    assert healthcare_entry.resource.id == str(service.uuid)
    assert "Flag" not in found


def test_it_records_each_send_as_a_patient_detail_disclosure(crew, service, provider):
    failing = Receiver(Answer(status=500))
    try:
        make_endpoint(provider, url=failing.url, kind=Endpoint.Kind.FHIR, full_message=True)
        referral = make_referral(crew, service)
        send_all()
        send_all(now=timezone.now() + timedelta(minutes=1))
        first, second = failing.received
    finally:
        failing.close()

    audit = PatientAccess.objects.filter(referral=referral, channel="fhir")
    assert audit.count() == 2
    # A new request id per attempt, one correlation id for the referral.
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.headers["x-correlation-id"] == second.headers["x-correlation-id"]
    # The same message (Bundle id) each time, so the receiver can de-duplicate.
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]


def test_it_flags_a_safeguarding_concern(crew, service, full_endpoint, receiver):
    make_referral(
        crew,
        service,
        clinical={
            "category": "falls",
            "presenting_complaint": "fell in the garden",
            "safeguarding_concern": True,
            "safeguarding_details": "Lives alone, carer not seen for days",
        },
    )
    send_all()
    found = resources(Bundle.model_validate_json(receiver.received[0].body))
    (flag_entry,) = found["Flag"]
    assert flag_entry.resource.category[0].coding[0].code == "safeguarding"
    assert flag_entry.resource.code.text == "Lives alone, carer not seen for days"
    service_request = found["ServiceRequest"][0].resource
    assert service_request.supportingInfo[0].reference == flag_entry.fullUrl


def test_it_sends_a_cancellation_revoked_with_reason_cancelled(
    crew, service, full_endpoint, receiver
):
    referral = make_referral(crew, service)
    answer(referral, crew, "cancel", note="Conveyed to ED instead")
    send_all()
    cancelled = Bundle.model_validate_json(receiver.received[-1].body)
    assert cancelled.entry[0].resource.reason.coding[0].code == "cancelled"
    service_request = resources(cancelled)["ServiceRequest"][0].resource
    assert service_request.status == "revoked"
    assert "Conveyed to ED instead" in [n.text for n in service_request.note]


def test_it_sends_other_changes_as_updates(crew, service, full_endpoint, receiver):
    referral = make_referral(crew, service)
    answer(referral, None, "expire", now=timezone.now() + timedelta(days=1))
    send_all()
    expired = Bundle.model_validate_json(receiver.received[-1].body)
    assert expired.entry[0].resource.reason.coding[0].code == "update"
    assert resources(expired)["ServiceRequest"][0].resource.status == "revoked"


def test_it_keeps_no_patient_details_in_the_outbox(crew, service, full_endpoint):
    make_referral(crew, service)
    stored = json.dumps(Delivery.objects.get().payload)
    assert PATIENT["nhs_number"] not in stored
    assert PATIENT["family_name"] not in stored


def test_it_refuses_to_send_patient_details_over_plain_http(
    crew, service, provider, receiver, settings
):
    make_endpoint(provider, url=receiver.url, kind=Endpoint.Kind.FHIR, full_message=True)
    make_referral(crew, service)
    settings.OUTBOUND_ALLOW_PRIVATE = False
    send_all()
    delivery = Delivery.objects.get()
    assert receiver.received == []
    assert "https" in delivery.last_error
    assert not PatientAccess.objects.exists()


def test_it_lets_a_fhir_endpoint_choose_the_full_message(api_as, partner, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    client = api_as(partner)
    created = client.post(
        "/api/v1/endpoints/",
        {"kind": "fhir", "url": "https://bars.alpha.test/fhir", "full_message": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["full_message"] is True

    webhook = client.post(
        "/api/v1/endpoints/",
        {"kind": "webhook", "url": "https://alpha.test/hooks", "full_message": True},
        format="json",
    )
    assert webhook.status_code == 400
    assert "full_message" in webhook.json()["error"]["fields"]

    plain = client.post(
        "/api/v1/endpoints/",
        {"kind": "fhir", "url": "http://bars.alpha.test/fhir", "full_message": True},
        format="json",
    )
    assert plain.status_code == 400
    assert "url" in plain.json()["error"]["fields"]
    assert Endpoint.objects.count() == 1
