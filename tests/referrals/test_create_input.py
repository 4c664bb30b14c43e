"""The create body's fields are built once and shared by every request: one request's
body or refusal must never show in another's answer."""

import uuid

from referrals.api import ReferralCreateApi
from tests.referrals.factories import referral_body

URL = "/api/v1/referrals/"


def post(client, body):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_it_builds_the_create_bodys_fields_once_for_every_request(service):
    first = ReferralCreateApi.InputSerializer(data=referral_body(service))
    second = ReferralCreateApi.InputSerializer(data=referral_body(service, urgency="within_1h"))
    assert first.fields is second.fields
    assert first.fields["patient"].fields is second.fields["patient"].fields


def test_it_refuses_each_bad_body_by_its_own_field_between_good_ones(api_as, crew, service):
    client = api_as(crew)
    assert post(client, referral_body(service)).status_code == 201

    patient = {**referral_body(service)["patient"], "nhs_number": "1234567890"}
    refused = post(client, referral_body(service, patient=patient))
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["patient"]
    assert list(refused.json()["error"]["fields"]["patient"]) == ["nhs_number"]

    clinical = {**referral_body(service)["clinical"], "observations": {"spo2": 20}}
    refused = post(client, referral_body(service, clinical=clinical))
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {
        "clinical": {
            "observations": {"spo2": ["Ensure this value is greater than or equal to 50."]}
        }
    }

    created = post(client, referral_body(service, incident_reference="CAD-456"))
    assert created.status_code == 201
    assert created.json()["incident_reference"] == "CAD-456"
    assert created.json()["patient"]["nhs_number"] == "9434765919"


def test_it_keeps_no_requests_body_in_the_shared_fields(service):
    serializer = ReferralCreateApi.InputSerializer(data=referral_body(service))
    assert serializer.is_valid(), serializer.errors
    root = serializer.fields["patient"].fields["given_name"].root
    assert root is not serializer
    assert not hasattr(root, "initial_data")
