"""Deliveries: the one sending path.

A Delivery is written in the same transaction as the event it tells of
(integrations/outbox.py), and sending is only asked for after commit
(integrations/queueing.py). Whoever sends (the Celery `deliver` task, queued after
commit, by the beat `sweep` or by the endpoint's previous send; or the embedded
`run_deliveries` loop) calls delivery_send, which claims the row, sends once
through the endpoint's transport, stores the attempt and decides what comes next. Retry
times live in next_attempt_at; a lost task or a dead worker only delays a delivery until
the next sweep or loop pass finds it due.
"""

from __future__ import annotations

import logging
import os
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, Endpoint
from integrations.operator_alerts import (
    tell_operators_of_disabled_endpoint,
    tell_operators_of_failure,
)
from integrations.queueing import queue_next_quietly
from integrations.selectors import due_deliveries
from integrations.transports import Outcome, transport_for

logger = logging.getLogger(__name__)


# Waits between attempts while a delivery keeps failing, counted from the first attempt:
# short at first, so a partner's brief outage costs seconds, then longer. Past the ladder
# its last step repeats; the end of the 24 h window is always the last attempt.
RETRY_LADDER = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=6),
)
RETRY_WINDOW = timedelta(hours=24)
JITTER = 0.10
RETRY_AFTER_MAX = timedelta(hours=24)
RETRY_AFTER_MIN = timedelta(seconds=1)


def _scaled(delta: timedelta) -> timedelta:
    # DELIVERY_TIME_SCALE (tests only, 1 in production) runs the whole schedule faster.
    return delta / settings.DELIVERY_TIME_SCALE


def retry_window() -> timedelta:
    """How long a delivery keeps being tried from its first attempt: 24 h (scaled in tests)."""
    return _scaled(RETRY_WINDOW)


def retry_offsets() -> list[timedelta]:
    """When attempts fall, from the first one: 0, 5 s, 35 s, 2 min 35 s, ... then 24 h."""
    offsets, at = [timedelta(0)], timedelta(0)
    steps = list(RETRY_LADDER)
    while True:
        at += steps.pop(0) if steps else RETRY_LADDER[-1]
        if at >= RETRY_WINDOW:
            return [*(_scaled(o) for o in offsets), retry_window()]
        offsets.append(at)


def _lease() -> timedelta:
    # Longer than any one send can take, so a live sender is never overtaken; a dead one
    # only holds the delivery this long.
    return timedelta(seconds=settings.OUTBOUND_TIMEOUT_SECONDS * 2 + 30)


def _sender() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, just not ours to signal
    return True


def leases_of_dead_senders_release(*, now: datetime | None = None) -> int:
    """Free the deliveries held by senders on this host whose process is gone; how many.

    A sender killed mid-send (a crashed or restarted delivery loop or worker) holds its
    deliveries, and its endpoint's send slots, until the lease runs out: 34 s to a minute
    in which nothing reaches that partner. A sender on the same host can see the process
    is gone and let the next one take them now. Other hosts' leases are left to run out.
    """
    now = now or timezone.now()
    host = socket.gethostname()
    held = Delivery.objects.filter(
        status=Delivery.Status.PENDING, locked_until__gte=now, locked_by__startswith=f"{host}:"
    )
    dead = set()
    for holder in held.values_list("locked_by", flat=True).distinct():
        pid = holder.rpartition(":")[2]
        if pid.isdigit() and not _alive(int(pid)):
            dead.add(holder)
    if not dead:
        return 0
    # Conditional on the holder: a delivery taken since by a live sender is not touched.
    return held.filter(locked_by__in=dead).update(locked_until=None, locked_by="")


# --- sending ---------------------------------------------------------------------------


class _Cancelled(Exception):
    """The claim found the delivery's endpoint disabled and cancelled the delivery."""


def _claim(*, delivery_id: int, now: datetime) -> datetime | None:
    """Take the delivery for one attempt and count it; the lease we hold, or None if not ours.

    Not ours: not due, held by another sender, or its endpoint has as many sends in flight
    as it may. Cancels it instead (_Cancelled) when its endpoint was disabled after it was
    written.
    """
    endpoint_id = (
        Delivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
    )
    if endpoint_id is None:
        return None
    lease_until = now + _lease()
    pending_due = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .filter(next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
    )
    with transaction.atomic():
        # The endpoint row lock makes claims for one endpoint take turns, so the count of
        # its sends in flight below is exact, not a guess two senders could both pass.
        active = (
            Endpoint.objects.select_for_update()
            .filter(pk=endpoint_id)
            .values_list("active", flat=True)
            .first()
        )
        if active:
            in_flight = Delivery.objects.filter(
                endpoint_id=endpoint_id, status=Delivery.Status.PENDING, locked_until__gte=now
            ).count()
            if in_flight >= settings.DELIVERY_ENDPOINT_CONCURRENCY:
                return None  # the sweep or the loop brings it back when a send there ends
            # Conditional UPDATE: of two senders racing for one delivery, exactly one sees 1.
            claimed = pending_due.update(
                locked_until=lease_until,
                locked_by=_sender(),
                queued_until=None,
                attempt_count=F("attempt_count") + 1,
                retry_until=Coalesce(F("retry_until"), Value(now + retry_window())),
            )
            return lease_until if claimed == 1 else None
        # Disabled after the delivery was written: nobody is listening there any more.
        cancelled = pending_due.update(
            status=Delivery.Status.CANCELLED,
            last_error="endpoint disabled",
            retry_until=None,
            queued_until=None,
        )
    if cancelled:
        raise _Cancelled  # raised after the block, so the cancel is committed
    return None


def _next_attempt_at(*, retry_until: datetime, now: datetime) -> datetime:
    """The next point of the schedule (+-10%) that is surely after now; at the latest the
    window's end. A point already tried early (its jitter) is never picked again."""
    started = retry_until - retry_window()
    elapsed = now - started
    for offset in retry_offsets()[1:-1]:
        if offset * (1 - JITTER) > elapsed:
            return min(started + offset * random.uniform(1 - JITTER, 1 + JITTER), retry_until)
    return retry_until


def _retry_after(raw: str | None, now: datetime) -> timedelta | None:
    """The wait a 429/503 asked for (seconds or an HTTP date), kept within 1 s and 24 h."""
    if not raw:
        return None
    raw = raw.strip()
    if raw.isdigit():
        wait = timedelta(seconds=int(raw))
    else:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = when - now
    return min(max(wait, RETRY_AFTER_MIN), RETRY_AFTER_MAX)


def _again_on_a_new_connection(step):
    """Run one database step of a send; if the connection was lost under it (a terminated
    backend, a database restart), run it once more on a new one. Without this, a send
    whose connection dies after its claim holds its delivery, and a slot of its endpoint,
    until the lease runs out, and one that dies after the partner answered sends it again.
    The steps are safe twice: the claim and the final update are conditional, and at worst
    an attempt is on record twice, once unfinished."""
    try:
        return step()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise  # the caller's transaction is gone with it; not ours to mend
        connection.close()
        return step()


def delivery_send(
    *, delivery_id: int, now: datetime | None = None, queue_next: bool = False
) -> Delivery | None:
    """Send one due delivery once and record what happened; None if it is not ours to send.

    Called by the Celery task and the run_deliveries loop alike. Never inside a
    transaction: the HTTP call must not hold database locks. The attempt is stored before
    the request goes out, so a sender killed mid-send still leaves it on record.

    queue_next (the Celery task): once done, queue the endpoint's next due deliveries into
    the send slots free, so a backlog drains one send after another, not by the sweep.
    """
    given_now = now
    now = now or timezone.now()
    try:
        lease = _again_on_a_new_connection(lambda: _claim(delivery_id=delivery_id, now=now))
    except _Cancelled:
        if queue_next:
            queue_next_quietly(delivery_id=delivery_id, now=given_now)
        return Delivery.objects.get(pk=delivery_id)
    if lease is None:
        # Its task has run: no longer queued, so it counts against no slot and the sweep or
        # the endpoint's next finished send queues it again when it may go.
        Delivery.objects.filter(pk=delivery_id, queued_until__isnull=False).update(
            queued_until=None
        )
        return None
    delivery = _again_on_a_new_connection(
        lambda: Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    )
    endpoint = delivery.endpoint
    attempt = _again_on_a_new_connection(
        lambda: DeliveryAttempt.objects.create(delivery=delivery, at=now)
    )

    try:
        outcome: Outcome = transport_for(endpoint.kind).send(delivery)
    except Exception as exc:
        # A bug must still count as an attempt, so the schedule (and its end) still applies.
        logger.exception("transport for delivery %s raised", delivery_id)
        outcome = Outcome(ok=False, error=f"internal error: {type(exc).__name__}")
    # A Retry-After counts from the answer, not from the claim: under load the two can be a
    # large part of a second apart, and a partner asking for 3 s must not see us in 2.8.
    # A caller's fixed now (tests, replays at a set time) stands for both.
    answered = now if given_now else timezone.now()
    _again_on_a_new_connection(
        lambda: DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error[:500],
            finished_at=answered,
        )
    )

    changes: dict[str, Any] = {"locked_until": None, "locked_by": ""}
    failed = False
    if outcome.ok:
        changes.update(status=Delivery.Status.DELIVERED, delivered_at=now, last_error="")
    elif outcome.gone:
        changes.update(status=Delivery.Status.CANCELLED, last_error=outcome.error, retry_until=None)
        # Only the send that switches it off tells operators; later 410s find it off already.
        disabled = Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False,
            disabled_reason=f"The receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC",
        )
        if disabled:
            tell_operators_of_disabled_endpoint(endpoint.pk)
    elif now >= delivery.retry_until:
        # The window is over. Cleared, so a replay starts a new one.
        changes.update(
            status=Delivery.Status.FAILED, failed_at=now, last_error=outcome.error, retry_until=None
        )
        failed = True
    else:
        asked = _retry_after(outcome.retry_after, answered)
        next_at = (
            min(answered + asked, delivery.retry_until)
            if asked
            else _next_attempt_at(retry_until=delivery.retry_until, now=now)
        )
        changes.update(next_attempt_at=next_at, last_error=outcome.error)

    # Only while we still hold the lease: a sender that overran it must not overwrite the next.
    updated = _again_on_a_new_connection(
        lambda: Delivery.objects.filter(pk=delivery_id, locked_until=lease).update(**changes)
    )
    if updated and failed:
        tell_operators_of_failure(delivery_id)
    if queue_next:
        queue_next_quietly(delivery_id=delivery_id, now=given_now)
    delivery.refresh_from_db()
    return delivery


# --- the loop -------------------------------------------------------------------------


def deliveries_due(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of deliveries a sender may take now, oldest due first (see selectors)."""
    return list(
        due_deliveries(now=now or timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def deliveries_send_due(*, now: datetime | None = None) -> int:
    """Send every due delivery here, one after another; returns how many were attempted."""
    sent = 0
    for delivery_id in deliveries_due(now=now):
        if delivery_send(delivery_id=delivery_id, now=now) is not None:
            sent += 1
    return sent
