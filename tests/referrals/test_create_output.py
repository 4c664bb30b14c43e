"""The create answer is built without DRF's serializer: it must stay, field for field, what
ReferralDetailSerializer (the schema's and the detail view's shape) says of the referral."""

import json
import uuid

import pytest
from django.utils import timezone

from referrals.api import ReferralDetailSerializer
from referrals.api_output import referral_detail
from referrals.models import Referral
from tests.referrals.factories import referral_body, referral_in

URL = "/api/v1/referrals/"


def _serialized(referral, user) -> dict:
    data = ReferralDetailSerializer(referral, context={"user": user}).data
    return json.loads(json.dumps(data))


def test_it_answers_a_create_exactly_as_the_detail_serializer_reads_the_referral(
    api_as, crew, service
):
    answer = api_as(crew).post(
        URL, referral_body(service), format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    assert answer.status_code == 201, answer.json()
    referral = Referral.objects.get(pk=answer.json()["id"])
    assert answer.json() == _serialized(referral, crew)


def test_it_answers_a_patient_without_papers_as_the_serializer_does(api_as, crew, service):
    patient = {
        "given_name": "Unknown",
        "family_name": "Unknown",
        "date_of_birth": None,
        "sex": "unknown",
    }
    clinical = {"category": "falls", "presenting_complaint": "Found collapsed"}
    body = referral_body(service, patient=patient, clinical=clinical)
    answer = api_as(crew).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="papers")
    assert answer.status_code == 201, answer.json()
    referral = Referral.objects.get(pk=answer.json()["id"])
    assert answer.json()["patient"]["date_of_birth"] is None
    assert answer.json() == _serialized(referral, crew)


@pytest.mark.parametrize("status", ["acknowledged", "accepted", "declined", "cancelled"])
def test_it_shapes_a_referral_in_any_status_as_the_serializer_does(status, crew, partner, service):
    referral = referral_in(status, crew=crew, partner=partner, service=service)
    referral = Referral.objects.get(pk=referral.pk)
    for user in (crew, partner, None):
        assert json.loads(json.dumps(referral_detail(referral, user=user))) == _serialized(
            referral, user
        )


def test_it_shapes_purged_patient_details_as_the_serializer_does(crew, partner, service):
    referral = referral_in("completed", crew=crew, partner=partner, service=service)
    Referral.objects.filter(pk=referral.pk).update(
        patient_details_purged_at=timezone.now(),
        patient_borough=None,
        referring_user=None,
        given_name="",
        observations={},
    )
    referral = Referral.objects.get(pk=referral.pk)
    assert referral_detail(referral, user=crew) == _serialized(referral, crew)
