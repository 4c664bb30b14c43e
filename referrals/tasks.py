"""Celery tasks of the referrals app: thin, calling services."""

from __future__ import annotations

from celery import shared_task

from referrals import services


@shared_task(name="referrals.purge_patient_details", ignore_result=True)
def purge_patient_details() -> int:
    """Beat: blank the patient details the retention policy no longer allows us to keep."""
    purged, _ = services.referrals_purge_by_policy()
    return purged


@shared_task(name="referrals.sweep", ignore_result=True)
def sweep() -> int:
    """Beat: expire and escalate referrals nobody answered in time."""
    return services.referrals_sweep()
