"""purge_patient_details: old closed referrals lose their identifiers, reports keep the facts."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from referrals.idempotency import idempotent_response
from referrals.models import IdempotencyKey, Referral, ReferralEvent, Status
from tests.referrals.factories import referral_in


def _age(referral, days):
    Referral.objects.filter(pk=referral.pk).update(closed_at=timezone.now() - timedelta(days=days))


def test_it_blanks_identifiers_of_old_closed_referrals_and_keeps_the_facts(crew, partner, service):
    referral = referral_in(Status.DECLINED, crew=crew, partner=partner, service=service)
    _age(referral, 40)

    call_command("purge_patient_details", "--older-than", "30")

    referral.refresh_from_db()
    assert referral.patient_details_purged_at is not None
    for name in ("nhs_number", "given_name", "family_name", "phone", "address", "postcode"):
        assert getattr(referral, name) == "", name
    assert referral.date_of_birth is None
    assert referral.summary == referral.presenting_complaint == referral.decline_note == ""
    assert not ReferralEvent.objects.filter(referral=referral).exclude(note="").exists()
    # De-identified facts stay for the reports.
    assert referral.age_band == "80+"
    assert referral.patient_borough is not None
    assert referral.category.code == "falls"
    assert referral.status == Status.DECLINED
    assert referral.decline_reason == "duplicate"
    assert referral.created_at and referral.closed_at


def test_it_leaves_open_and_recent_referrals_alone(crew, partner, service):
    open_referral = referral_in(Status.ACCEPTED, crew=crew, partner=partner, service=service)
    Referral.objects.filter(pk=open_referral.pk).update(
        created_at=timezone.now() - timedelta(days=90)
    )
    recent = referral_in(Status.COMPLETED, crew=crew, partner=partner, service=service)
    _age(recent, 10)

    call_command("purge_patient_details", "--older-than", "30")

    for referral in (open_referral, recent):
        referral.refresh_from_db()
        assert referral.given_name == "Ada"
        assert referral.patient_details_purged_at is None


def test_the_api_shows_a_purged_referral_without_identifiers(api_as, crew, partner, service):
    referral = referral_in(Status.CANCELLED, crew=crew, partner=partner, service=service)
    _age(referral, 40)
    call_command("purge_patient_details", "--older-than", "30")
    body = api_as(crew).get(f"/api/v1/referrals/{referral.pk}/").json()
    assert body["patient"]["given_name"] == ""
    assert body["patient"]["details_purged_at"]
    assert "Ada" not in str(body)


def test_it_deletes_idempotency_keys_older_than_a_day(crew):
    idempotent_response(user=crew, key="k", body={}, create=lambda: (201, {"given_name": "Ada"}))
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("purge_patient_details", "--older-than", "30")
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("days", ["0", "-3"])
def test_it_refuses_less_than_a_day(crew, partner, service, days):
    referral = referral_in(Status.DECLINED, crew=crew, partner=partner, service=service)
    with pytest.raises(CommandError):
        call_command("purge_patient_details", "--older-than", days)
    referral.refresh_from_db()
    assert referral.given_name == "Ada"
