"""Queueing deliveries on Celery: publishing after commit, and the sweep.

Publishing never waits on the broker, and a delivery not published is only delayed: the
outbox holds it and the beat sweep (deliveries_enqueue_due) queues it, as many at a time as
its endpoint has send slots free. Each finished send queues its endpoint's next
(queue_next_quietly). The deliver task is published by name (DELIVER_TASK), so
integrations.tasks imports this module and never the reverse.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from integrations.models import Delivery, Endpoint
from integrations.selectors import (
    due_unqueued_deliveries,
    endpoint_slots_taken,
    endpoints_with_due_deliveries,
)

logger = logging.getLogger(__name__)


def _queued_lease() -> timedelta:
    # How long a queued task may wait for a worker before the sweep takes it for lost and
    # queues another (which, if the first turns up after all, finds the delivery taken).
    return timedelta(seconds=max(10, 2 * settings.DELIVERY_SWEEP_SECONDS))


def queued_mark(now: datetime) -> datetime | None:
    """queued_until for a delivery written now and published after commit (None without a
    broker). Marked in the same write, so until its task runs neither a finished send nor the
    sweep queues it a second time; if publishing fails, the mark is taken off again."""
    return now + _queued_lease() if settings.CELERY_BROKER_URL else None


def enqueue_after_commit(delivery_ids: list[int]) -> None:
    """Publish the deliveries' tasks once the transaction that wrote them (marked with
    queued_mark) commits."""
    if not delivery_ids or not settings.CELERY_BROKER_URL:
        return  # embedded mode: the run_deliveries loop finds them due within a second
    transaction.on_commit(lambda: _enqueue_marked(delivery_ids), robust=True)


DELIVER_TASK = "integrations.deliver"  # integrations/tasks.py: deliver


# Publishing never waits on the broker: one try with a short timeout on a connection of our
# own (kombu's default retries for seconds), and after a failure the broker is left alone
# for a sweep interval. The outbox holds the work; the sweep queues it once the broker is
# back. Per thread and per process, because kombu connections are neither.
_publisher = threading.local()
_broker_quiet_until = 0.0


def _publisher_connection():
    from config.celery import app

    url = settings.CELERY_BROKER_URL
    key = (os.getpid(), url)
    if getattr(_publisher, "key", None) != key:
        timeout = settings.DELIVERY_ENQUEUE_TIMEOUT_MS / 1000
        options: dict[str, Any] = {"max_retries": 0}
        if url.startswith(("redis://", "rediss://")):
            options.update(socket_connect_timeout=timeout, socket_timeout=timeout)
        _publisher.connection = app.connection_for_write(
            url, connect_timeout=timeout, transport_options=options
        )
        _publisher.key = key
    return _publisher.connection


def _publisher_drop() -> None:
    connection = getattr(_publisher, "connection", None)
    _publisher.key = _publisher.connection = None
    if connection is not None:
        try:
            connection.release()
        except Exception:  # already broken; nothing more to free
            logger.debug("closing the broken broker connection failed", exc_info=True)


def _enqueue(delivery_ids: Iterable[int]) -> int:
    """Hand deliveries to Celery. A broker failure only delays them until the next sweep.

    The task is named, not imported: integrations.tasks calls these services, and they must
    not import it back."""
    from config.celery import app

    global _broker_quiet_until
    ids = list(delivery_ids)
    if not ids or time.monotonic() < _broker_quiet_until:
        return 0
    queued = 0
    try:
        connection = _publisher_connection()
        for delivery_id in ids:
            app.send_task(DELIVER_TASK, (delivery_id,), connection=connection, retry=False)
            queued += 1
    except Exception as exc:
        _publisher_drop()
        _broker_quiet_until = time.monotonic() + settings.DELIVERY_SWEEP_SECONDS
        logger.warning("could not queue %d deliveries (%s); the sweep will", len(ids) - queued, exc)
    return queued


def _enqueue_marked(delivery_ids: list[int]) -> int:
    """Publish tasks for deliveries marked queued; those not published are unmarked, so the
    sweep queues them once the broker is back rather than after the mark runs out."""
    queued = _enqueue(delivery_ids)
    if queued < len(delivery_ids):
        Delivery.objects.filter(pk__in=delivery_ids[queued:]).update(queued_until=None)
    return queued


def queue_next_quietly(*, delivery_id: int, now: datetime | None) -> None:
    """After a send, queue its endpoint's next due deliveries into the slots free; a database
    error here is only logged, since the send itself is already on record."""
    try:
        endpoint_id = (
            Delivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
        )
        if endpoint_id is not None:
            now = now or timezone.now()  # after the send, not when it began
            _enqueue_marked(_deliveries_mark_queued(endpoint_id=endpoint_id, now=now))
    except DatabaseError:
        # The send is recorded; what comes next the sweep queues instead.
        logger.warning("could not queue the deliveries after %s; the sweep will", delivery_id)


def _deliveries_mark_queued(*, endpoint_id: int, now: datetime) -> list[int]:
    """Mark as queued the endpoint's oldest due deliveries, as many as it has send slots free
    (DELIVERY_ENDPOINT_CONCURRENCY less its sends in flight and tasks queued); their ids."""
    with transaction.atomic():
        # Taken in turn with the claims for this endpoint, so slots are never counted twice.
        if not Endpoint.objects.select_for_update().filter(pk=endpoint_id).exists():
            return []
        free = settings.DELIVERY_ENDPOINT_CONCURRENCY - endpoint_slots_taken(
            endpoint_id=endpoint_id, now=now
        )
        if free <= 0:
            return []
        ids = list(
            due_unqueued_deliveries(now=now)
            .filter(endpoint_id=endpoint_id)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:free]
        )
        Delivery.objects.filter(pk__in=ids).update(queued_until=now + _queued_lease())
    return ids


def deliveries_enqueue_due(*, now: datetime | None = None) -> int:
    """The beat sweep: for each endpoint with due deliveries, queue as many as it has send
    slots free. Each finished send queues its endpoint's next, so the sweep only starts a
    backlog, picks up retries as they fall due, and replaces tasks lost (their delivery's
    queued or sending lease ran out)."""
    now = now or timezone.now()
    ids: list[int] = []
    for endpoint_id in endpoints_with_due_deliveries(now=now):
        ids += _deliveries_mark_queued(endpoint_id=endpoint_id, now=now)
    return _enqueue_marked(ids)
