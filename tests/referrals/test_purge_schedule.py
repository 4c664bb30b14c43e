"""The purge of patient details runs on a schedule, by the retention setting, in both modes."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from referrals import tasks
from referrals.models import PatientAccess, Referral, Status
from tests.referrals.factories import referral_in


def _closed_days_ago(referral, days):
    Referral.objects.filter(pk=referral.pk).update(closed_at=timezone.now() - timedelta(days=days))


def test_beat_runs_the_purge_as_often_as_the_setting_says():
    entry = django_settings.CELERY_BEAT_SCHEDULE["referrals-purge-patient-details"]
    assert entry["task"] == "referrals.purge_patient_details" == tasks.purge_patient_details.name
    assert entry["schedule"] == float(django_settings.PATIENT_DETAILS_PURGE_SECONDS)


def test_the_beat_task_purges_by_the_retention_setting(crew, partner, service, settings):
    settings.PATIENT_DETAILS_RETENTION_DAYS = 30
    old = referral_in(Status.COMPLETED, crew=crew, partner=partner, service=service)
    recent = referral_in(Status.COMPLETED, crew=crew, partner=partner, service=service)
    _closed_days_ago(old, 31)
    _closed_days_ago(recent, 29)

    assert tasks.purge_patient_details() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.given_name == "" and old.patient_details_purged_at is not None
    assert recent.given_name != "" and recent.patient_details_purged_at is None


def test_the_embedded_loop_purges_too(crew, partner, service, settings):
    settings.PATIENT_DETAILS_RETENTION_DAYS = 30
    referral = referral_in(Status.DECLINED, crew=crew, partner=partner, service=service)
    _closed_days_ago(referral, 45)

    call_command("run_deliveries", "--once")

    referral.refresh_from_db()
    assert referral.patient_details_purged_at is not None


def test_the_purge_clears_the_incident_reference_when_policy_says_so(
    crew, partner, service, settings
):
    settings.PATIENT_DETAILS_RETENTION_DAYS = 30
    settings.PURGE_INCIDENT_REFERENCE = True
    referral = referral_in(Status.CANCELLED, crew=crew, partner=partner, service=service)
    assert referral.incident_reference
    _closed_days_ago(referral, 40)

    tasks.purge_patient_details()

    referral.refresh_from_db()
    assert referral.incident_reference == ""


def test_the_scheduled_purge_leaves_the_audit_alone(api_as, crew, partner, service, settings):
    settings.PATIENT_DETAILS_RETENTION_DAYS = 30
    referral = referral_in(Status.COMPLETED, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"/api/v1/referrals/{referral.pk}/")
    _closed_days_ago(referral, 40)

    assert tasks.purge_patient_details() == 1

    assert PatientAccess.objects.get().username == "bob-partner"
