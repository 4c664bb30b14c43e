"""Expiry and escalation are the referrals app's own periodic task, on the sweep queue."""

from django.conf import settings

from config.celery import app


def test_it_schedules_the_referrals_sweep_on_the_sweep_queue_as_often_as_deliveries():
    entry = settings.CELERY_BEAT_SCHEDULE["referrals-sweep"]
    route = app.amqp.router.route(entry.get("options", {}), entry["task"])
    assert entry["task"] == "referrals.sweep"
    assert route["queue"].name == "sweep"
    assert entry["schedule"] == settings.DELIVERY_SWEEP_SECONDS
