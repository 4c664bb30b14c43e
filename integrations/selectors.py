"""Reads about deliveries: what a sender may take (or the sweep queue) now, and whether
anything is sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from integrations.models import Delivery


def _busy_endpoints(*, now: datetime) -> QuerySet:
    """Endpoints with as many sends in flight as DELIVERY_ENDPOINT_CONCURRENCY allows."""
    return (
        Delivery.objects.filter(status=Delivery.Status.PENDING, locked_until__gte=now)
        .values("endpoint_id")
        .annotate(in_flight=Count("id"))
        .filter(in_flight__gte=settings.DELIVERY_ENDPOINT_CONCURRENCY)
        .values("endpoint_id")
    )


def due_deliveries(*, now: datetime) -> QuerySet:
    """Pending deliveries that are due, not held by a sender, to an endpoint with room.

    Deliveries waiting for a busy endpoint are left out: handing them to a sender now would
    only have it refused, and (for the sweep) queue a task that does nothing.
    """
    return (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .exclude(endpoint_id__in=_busy_endpoints(now=now))
    )


def _unqueued(now: datetime) -> Q:
    return Q(queued_until__isnull=True) | Q(queued_until__lt=now)


def due_unqueued_deliveries(*, now: datetime) -> QuerySet:
    """Due deliveries a sender may take that no queued task is on its way to."""
    return due_deliveries(now=now).filter(_unqueued(now))


def endpoints_with_due_deliveries(*, now: datetime) -> list[int]:
    """Endpoints with room that have due deliveries no task is queued for (the sweep's)."""
    return list(
        due_unqueued_deliveries(now=now).order_by().values_list("endpoint_id", flat=True).distinct()
    )


def endpoint_slots_taken(*, endpoint_id: int, now: datetime) -> int:
    """Of the endpoint's DELIVERY_ENDPOINT_CONCURRENCY send slots, how many are taken: by a
    send in flight, or by a task queued for a delivery that has not run yet."""
    return (
        Delivery.objects.filter(endpoint_id=endpoint_id, status=Delivery.Status.PENDING)
        .filter(Q(locked_until__gte=now) | Q(queued_until__gte=now))
        .count()
    )


@dataclass(frozen=True)
class DeliveryHealth:
    pending: int
    in_flight: int
    due: int
    # Due for longer than DELIVERY_STALL_SECONDS and still untouched: nothing is sending.
    stalled: int
    stalled_since: datetime | None
    failed_last_day: int

    @property
    def ok(self) -> bool:
        return self.stalled == 0

    def problem(self) -> str:
        if self.ok:
            return ""
        how = (
            "Is a Celery worker consuming the queues in settings (celery -A config worker), "
            "and is beat running?"
            if settings.CELERY_BROKER_URL
            else "Is manage.py run_deliveries running?"
        )
        return (
            f"{self.stalled} deliveries have been due since {self.stalled_since:%Y-%m-%d %H:%M:%S} "
            f"UTC or earlier and nothing is sending them. {how}"
        )


def delivery_health(*, now: datetime | None = None) -> DeliveryHealth:
    """How the outbox stands, and whether due deliveries are being sent at all.

    A sender takes a due delivery within seconds (the task after commit, the sweep, the
    loop); one left untouched for DELIVERY_STALL_SECONDS means nothing consumes the work.
    Deliveries waiting their turn behind a busy endpoint are not counted as stalled.
    """
    now = now or timezone.now()
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING)
    due = due_deliveries(now=now)
    stalled = due.filter(
        next_attempt_at__lte=now - timedelta(seconds=settings.DELIVERY_STALL_SECONDS)
    )
    stalled_agg = stalled.aggregate(count=Count("id"), since=Min("next_attempt_at"))
    return DeliveryHealth(
        pending=pending.count(),
        in_flight=pending.filter(locked_until__gte=now).count(),
        due=due.count(),
        stalled=stalled_agg["count"],
        stalled_since=stalled_agg["since"],
        failed_last_day=Delivery.objects.filter(
            status=Delivery.Status.FAILED, failed_at__gte=now - timedelta(days=1)
        ).count(),
    )
