"""Celery app. Only used when CELERY_BROKER_URL is set; otherwise run_deliveries sends."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("frontdoor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
