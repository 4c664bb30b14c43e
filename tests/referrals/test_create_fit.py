"""Referral creation reads a service's hours, dated exceptions, boroughs covered and the
receiving organisation's endpoints in one statement: each still decides what it did."""

import uuid
from datetime import timedelta

from django.utils import timezone

from directory.hours import LONDON
from directory.models import OpeningException
from integrations.models import Delivery, Endpoint
from referrals.models import Referral
from tests.factories import OrganisationFactory, ServiceFactory, borough
from tests.referrals.factories import referral_body

URL = "/api/v1/referrals/"


def post(client, body):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def _today_and_tomorrow():
    today = timezone.now().astimezone(LONDON).date()
    return today, today + timedelta(days=1)


def test_it_refuses_a_service_closed_all_day_by_dated_exceptions(api_as, crew, service):
    for day in _today_and_tomorrow():
        OpeningException.objects.create(service=service, date=day, closed=True)

    answer = post(api_as(crew), referral_body(service, urgency="within_1h"))

    assert answer.status_code == 422
    assert answer.json()["error"]["reason"] == "closed"
    assert Referral.objects.count() == 0


def test_it_takes_a_service_opened_by_dated_exceptions_on_days_it_is_usually_shut(
    api_as, crew, provider
):
    shut = ServiceFactory(organisation=provider, hours=[])
    for day in _today_and_tomorrow():
        OpeningException.objects.create(
            service=shut, date=day, closed=False, opens="00:00", closes="00:00"
        )

    assert post(api_as(crew), referral_body(shut, urgency="within_1h")).status_code == 201


def test_it_refuses_a_patient_outside_the_boroughs_the_service_covers(api_as, crew, service):
    service.boroughs_covered.set([borough("Camden")])  # the patient is in Westminster

    answer = post(api_as(crew), referral_body(service))

    assert answer.status_code == 422
    assert answer.json()["error"]["reason"] == "outside_area"


def test_it_takes_a_patient_inside_the_boroughs_the_service_covers(api_as, crew, service):
    service.boroughs_covered.set([borough("Camden"), borough("Westminster")])

    assert post(api_as(crew), referral_body(service)).status_code == 201


def test_it_tells_each_active_endpoint_of_the_receiving_organisation_once(
    api_as, crew, provider, service
):
    first = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url="https://a.example.invalid/hook"
    )
    fhir = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.FHIR, url="https://b.example.invalid/fhir"
    )
    Endpoint.objects.create(
        organisation=provider,
        kind=Endpoint.Kind.WEBHOOK,
        url="https://off.example.invalid/hook",
        active=False,
    )
    Endpoint.objects.create(
        organisation=provider,
        kind=Endpoint.Kind.EMAIL,
        email="escalations@example.invalid",
        escalations_only=True,
    )
    Endpoint.objects.create(
        organisation=OrganisationFactory(),
        kind=Endpoint.Kind.WEBHOOK,
        url="https://other.example.invalid/hook",
    )

    assert post(api_as(crew), referral_body(service)).status_code == 201

    told = Delivery.objects.filter(event_type="referral.created")
    assert sorted(told.values_list("endpoint_id", flat=True)) == [first.pk, fhir.pk]
    bundle = told.get(endpoint=fhir).payload
    assert bundle["resourceType"] == "Bundle"
