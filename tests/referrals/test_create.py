"""Sending a referral through POST /api/v1/referrals/."""

import uuid

import pytest

from directory.models import Service
from referrals.models import PatientAccess, Referral, ReferralEvent
from tests.factories import ServiceFactory, borough
from tests.referrals.factories import referral_body

URL = "/api/v1/referrals/"


def post(client, body, key=None):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def test_it_creates_a_sent_referral_with_its_first_event(api_as, crew, service):
    answer = post(api_as(crew), referral_body(service))
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    referral = Referral.objects.get(pk=body["id"])
    assert body["status"] == "sent"
    assert body["patient"]["nhs_number"] == "9434765919"
    assert body["clinical"]["observations"]["spo2"] == 96
    assert body["actions"] == ["cancel"]
    assert referral.referring_organisation == crew.organisation
    assert referral.referring_user == crew
    assert referral.age_band == "80+"
    assert referral.patient_borough == service.location.borough
    events = list(ReferralEvent.objects.filter(referral=referral))
    assert [(e.from_status, e.to_status, e.actor) for e in events] == [("", "sent", crew)]


def test_it_sets_due_times_from_the_service(api_as, crew, service):
    service.acknowledge_within_minutes = 10
    service.answer_within_minutes = 45
    service.save()
    referral = Referral.objects.get(pk=post(api_as(crew), referral_body(service)).json()["id"])
    assert (referral.acknowledge_due_at - referral.created_at).total_seconds() == pytest.approx(
        600, abs=5
    )
    assert (referral.answer_due_at - referral.created_at).total_seconds() == pytest.approx(
        2700, abs=5
    )


def test_it_does_not_record_a_patient_read_for_the_crew_that_wrote_it(api_as, crew, service):
    post(api_as(crew), referral_body(service))
    assert PatientAccess.objects.count() == 0


def test_it_requires_an_idempotency_key(api_as, crew, service):
    answer = api_as(crew).post(URL, referral_body(service), format="json")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "idempotency_key_required"
    assert Referral.objects.count() == 0


def test_it_takes_a_counted_slot(api_as, crew, service):
    Service.objects.filter(pk=service.pk).update(capacity_slots=2)
    body = post(api_as(crew), referral_body(service)).json()
    service.refresh_from_db()
    assert service.capacity_slots == 1
    assert Referral.objects.get(pk=body["id"]).holds_slot


def test_it_refuses_when_no_slot_is_left_and_writes_nothing(api_as, crew, service):
    Service.objects.filter(pk=service.pk).update(capacity_slots=0)
    answer = post(api_as(crew), referral_body(service))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "no_capacity"
    assert Referral.objects.count() == 0
    assert ReferralEvent.objects.count() == 0


def test_it_refuses_when_stale_capacity_reads_zero_slots(api_as, crew, service):
    # Expired capacity is not "full" to the search, but the slot counter still has none.
    Service.objects.filter(pk=service.pk).update(capacity_slots=0, capacity_expires_at=None)
    answer = post(api_as(crew), referral_body(service))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "no_capacity"
    assert Referral.objects.count() == 0


@pytest.mark.parametrize("nhs_number", ["9434765918", "0000000000", "94347659", "ABCDEFGHIJ"])
def test_it_refuses_an_invalid_nhs_number(api_as, crew, service, nhs_number):
    body = referral_body(service)
    body["patient"]["nhs_number"] = nhs_number
    answer = post(api_as(crew), body)
    assert answer.status_code == 400
    assert "nhs_number" in answer.json()["error"]["fields"]["patient"]
    assert Referral.objects.count() == 0


def test_it_takes_a_referral_without_an_nhs_number(api_as, crew, service):
    body = referral_body(service)
    del body["patient"]["nhs_number"]
    answer = post(api_as(crew), body)
    assert answer.status_code == 201
    assert answer.json()["patient"]["nhs_number"] == ""


def test_it_takes_a_patient_of_no_fixed_abode_by_the_nhs_pseudo_postcode(api_as, crew, service):
    body = referral_body(service)
    body["patient"]["postcode"] = "zz99 3vz"
    answer = post(api_as(crew), body)
    assert answer.status_code == 201, answer.json()
    referral = Referral.objects.get()
    assert referral.postcode == "ZZ99 3VZ"
    assert referral.patient_borough == service.location.borough


def test_it_takes_a_patient_whose_date_of_birth_is_unknown(api_as, crew, service):
    body = referral_body(service)
    body["patient"]["date_of_birth"] = None
    answer = post(api_as(crew), body)
    assert answer.status_code == 201
    assert answer.json()["patient"]["date_of_birth"] is None


def test_it_accepts_an_nhs_number_written_with_spaces(api_as, crew, service):
    body = referral_body(service)
    body["patient"]["nhs_number"] = "943 476 5919"
    assert post(api_as(crew), body).json()["patient"]["nhs_number"] == "9434765919"


def test_it_refuses_without_consent(api_as, crew, service):
    answer = post(api_as(crew), referral_body(service, consent={"given": False}))
    assert answer.status_code == 400
    assert "given" in answer.json()["error"]["fields"]["consent"]
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("spo2", 120), ("heart_rate", -1), ("temperature", 50.0), ("consciousness", "X")],
)
def test_it_refuses_observations_out_of_range(api_as, crew, service, name, value):
    body = referral_body(service)
    body["clinical"]["observations"][name] = value
    answer = post(api_as(crew), body)
    assert answer.status_code == 400
    assert name in answer.json()["error"]["fields"]["clinical"]["observations"]


def test_it_names_missing_fields(api_as, crew, service):
    body = referral_body(service)
    del body["urgency"]
    del body["patient"]["family_name"]
    answer = post(api_as(crew), body)
    assert answer.status_code == 400
    fields = answer.json()["error"]["fields"]
    assert "urgency" in fields
    assert "family_name" in fields["patient"]


def test_it_refuses_an_unknown_service(api_as, crew, service):
    body = referral_body(service)
    body["service"] = service.pk + 1000
    answer = post(api_as(crew), body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unknown_service"


def test_it_refuses_an_unknown_category(api_as, crew, service):
    body = referral_body(service)
    body["clinical"]["category"] = "no-such-thing"
    answer = post(api_as(crew), body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unknown_category"


def test_it_refuses_an_inactive_service(api_as, crew, service):
    Service.objects.filter(pk=service.pk).update(active=False)
    answer = post(api_as(crew), referral_body(service))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "service_inactive"


def test_it_refuses_a_patient_the_service_does_not_take(api_as, crew, service):
    Service.objects.filter(pk=service.pk).update(max_age=65)
    answer = post(api_as(crew), referral_body(service))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "referral_refused"
    assert answer.json()["error"]["reason"] == "not_eligible_age"
    assert Referral.objects.count() == 0


def test_it_refuses_a_closed_service(api_as, crew, provider):
    closed = ServiceFactory(organisation=provider, hours=[])
    answer = post(api_as(crew), referral_body(closed))
    assert answer.status_code == 422
    assert answer.json()["error"]["reason"] == "closed"


def test_it_takes_a_closed_service_that_says_it_takes_referrals_when_closed(api_as, crew, provider):
    closed = ServiceFactory(organisation=provider, hours=[], accepts_referrals_when_closed=True)
    assert post(api_as(crew), referral_body(closed)).status_code == 201


def test_it_places_the_patient_by_postcode_when_the_postcode_is_known(api_as, crew, service):
    from directory.models import Postcode

    Postcode.objects.create(
        postcode="E1 6AN", latitude=51.52, longitude=-0.07, borough=borough("Tower Hamlets")
    )
    body = referral_body(service)
    body["patient"]["postcode"] = "e16an"
    referral = Referral.objects.get(pk=post(api_as(crew), body).json()["id"])
    assert referral.postcode == "E1 6AN"
    assert referral.patient_borough.name == "Tower Hamlets"


def test_it_refuses_a_service_whose_live_capacity_is_red_and_writes_nothing(api_as, crew, service):
    Service.objects.filter(pk=service.pk).update(capacity_status="RED")
    answer = post(api_as(crew), referral_body(service))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "no_capacity"
    assert "not taking referrals" in answer.json()["error"]["message"]
    assert Referral.objects.count() == 0


def test_it_takes_a_referral_once_a_red_status_has_expired(api_as, crew, service):
    Service.objects.filter(pk=service.pk).update(
        capacity_status="RED", capacity_expires_at=service.capacity_updated_at
    )
    assert post(api_as(crew), referral_body(service)).status_code == 201
