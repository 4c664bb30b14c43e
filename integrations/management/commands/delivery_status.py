"""Whether deliveries are going out: for operators and for a monitoring probe.

Exits 0 when every due delivery is being sent, non-zero (with the reason on stderr) when
deliveries are due and nothing has tried them for DELIVERY_STALL_SECONDS: no worker on the
queues settings route to, no beat, or no run_deliveries loop.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.selectors import delivery_health


class Command(BaseCommand):
    help = "Report the outbox; exit non-zero when due deliveries are not being sent."

    def handle(self, *args, **options) -> None:
        health = delivery_health()
        mode = (
            f"Celery ({settings.CELERY_BROKER_URL.split('@')[-1]})"
            if settings.CELERY_BROKER_URL
            else "run_deliveries loop"
        )
        self.stdout.write(
            f"sender: {mode}\n"
            f"pending: {health.pending} (in flight {health.in_flight}, due now {health.due})\n"
            f"stalled: {health.stalled}\n"
            f"failed in the last 24 h: {health.failed_last_day}"
        )
        if not health.ok:
            raise CommandError(health.problem())
        self.stdout.write("ok: deliveries are being sent")
