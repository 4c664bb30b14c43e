"""The audit of patient reads: events are audited, refused tries are kept, who read survives
the user, the address and browser are kept, and the rows are append-only in the database."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from referrals.models import PatientAccess, Referral, Status
from referrals.services import referrals_purge_patient_details
from tests.referrals.factories import referral_in

URL = "/api/v1/referrals/"


def test_it_records_a_read_of_the_events_and_their_free_text(api_as, crew, partner, service):
    referral = referral_in(Status.DECLINED, crew=crew, partner=partner, service=service)
    answer = api_as(crew).get(f"{URL}{referral.pk}/events/")
    assert answer.status_code == 200
    access = PatientAccess.objects.get()
    assert (access.user, access.referral, access.resource) == (crew, referral, "events")


def test_it_records_a_refused_read_with_the_id_asked_for(
    api_as, crew, partner, other_partner, service
):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    assert api_as(other_partner).get(f"{URL}{referral.pk}/").status_code == 404
    assert api_as(other_partner).get(f"{URL}{uuid.uuid4()}/events/").status_code == 404
    denied = list(PatientAccess.objects.order_by("at", "id"))
    assert [a.outcome for a in denied] == ["denied", "denied"]
    assert denied[0].referral_ref == referral.pk
    assert denied[0].referral is None  # nothing of the referral was shown
    assert {a.username for a in denied} == {"carol-partner"}


def test_it_keeps_the_address_and_user_agent_of_each_read(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    api_as(partner).get(
        f"{URL}{referral.pk}/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="TrustEPR/2.1"
    )
    access = PatientAccess.objects.get()
    assert access.ip_address == "203.0.113.7"
    assert access.user_agent == "TrustEPR/2.1"


def test_it_keeps_who_read_as_text(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"{URL}{referral.pk}/")
    access = PatientAccess.objects.get()
    assert access.username == "bob-partner"
    assert access.organisation_name == partner.organisation.name
    assert access.role == "partner"


def test_a_user_who_read_a_record_cannot_be_deleted(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"{URL}{referral.pk}/")
    with pytest.raises(ProtectedError):
        partner.delete()
    assert PatientAccess.objects.get().username == "bob-partner"


def test_a_read_referral_is_never_deleted_with_its_audit(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"{URL}{referral.pk}/")
    with pytest.raises(ProtectedError):
        referral.delete()
    assert PatientAccess.objects.count() == 1


def test_the_database_refuses_to_change_an_audit_row(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"{URL}{referral.pk}/")
    with pytest.raises(DatabaseError), transaction.atomic():
        PatientAccess.objects.update(username="someone-else")
    assert PatientAccess.objects.get().username == "bob-partner"


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE refused on PostgreSQL")
def test_the_database_refuses_to_delete_an_audit_row(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"{URL}{referral.pk}/")
    with pytest.raises(DatabaseError), transaction.atomic():
        PatientAccess.objects.all().delete()
    assert PatientAccess.objects.count() == 1


def test_the_purge_still_blanks_a_read_referral_and_keeps_its_audit(api_as, crew, partner, service):
    referral = referral_in(Status.COMPLETED, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"{URL}{referral.pk}/")
    later = timezone.now() + timezone.timedelta(days=100)

    assert referrals_purge_patient_details(older_than_days=30, now=later) == 1

    referral = Referral.objects.get()
    assert referral.given_name == "" and referral.patient_details_purged_at is not None
    access = PatientAccess.objects.get()
    assert (access.referral, access.username) == (referral, "bob-partner")
