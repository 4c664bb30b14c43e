"""Deliveries: the transactional outbox and the one sending path.

A Delivery is written in the same transaction as the event it tells of, and sending is
only asked for after commit. Whoever sends (the Celery `deliver` task, queued after
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
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.errors import Conflict, DomainError
from integrations.fhir import message_bundle, referral_api_url
from integrations.models import Delivery, DeliveryAttempt, Endpoint
from integrations.selectors import (
    due_deliveries,
    due_unqueued_deliveries,
    endpoint_slots_taken,
    endpoints_with_due_deliveries,
)
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


def _queued_lease() -> timedelta:
    # How long a queued task may wait for a worker before the sweep takes it for lost and
    # queues another (which, if the first turns up after all, finds the delivery taken).
    return timedelta(seconds=max(10, 2 * settings.DELIVERY_SWEEP_SECONDS))


# --- writing the outbox ----------------------------------------------------------------


def _recipients(event) -> list[Any]:
    """Organisations that must hear of this event.

    Created and cancelled: the receiving organisation (the service's). Acknowledged,
    accepted, declined and completed: the referring organisation (the crew's). Expired:
    both, so the crew knows to find another service and the partner stops working on it.
    Escalated (unacknowledged past its deadline): both, so the partner looks and the crew
    picks up the phone.
    """
    referral = event.referral
    receiving = referral.service.organisation
    referring = referral.referring_organisation
    to_status = event.to_status
    if event.event_type == "referral.escalated":
        return [receiving] if referring.pk == receiving.pk else [receiving, referring]
    if to_status in {"sent", "cancelled"}:
        return [receiving]
    if to_status in {"acknowledged", "accepted", "declined", "completed"}:
        return [referring]
    if to_status == "expired":
        return [referring] if referring.pk == receiving.pk else [referring, receiving]
    return []


def _event_payload(event) -> dict[str, Any]:
    """The thin webhook body: what happened and where to read more; never patient details."""
    referral = event.referral
    return {
        "type": event.event_type,
        "timestamp": event.created_at.isoformat(),
        "data": {
            "event_id": event.pk,
            "referral_id": str(referral.pk),
            "service_id": referral.service_id,
            "status": event.to_status,
            "previous_status": event.from_status,
            "api_url": referral_api_url(referral.pk),
        },
    }


def _new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def _enqueue_after_commit(delivery_ids: list[int]) -> None:
    if not delivery_ids or not settings.CELERY_BROKER_URL:
        return  # embedded mode: the run_deliveries loop finds them due within a second
    transaction.on_commit(lambda: _enqueue(delivery_ids), robust=True)


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


def _build(*, endpoint: Endpoint, event_type: str, payload: dict, event, now: datetime) -> Delivery:
    message_id = _new_message_id()
    if endpoint.kind == Endpoint.Kind.FHIR:
        payload = message_bundle(
            message_id=message_id,
            event_type=event_type,
            at=now,
            destination=endpoint.url,
            event=event,
        )
    return Delivery(
        endpoint=endpoint,
        event=event,
        event_type=event_type,
        message_id=message_id,
        payload=payload,
        next_attempt_at=now,
    )


def deliveries_create_for_event(*, event) -> list[Delivery]:
    """Write one Delivery per active endpoint that must hear of this event.

    Runs inside the caller's transaction (the outbox): if the event rolls back, so do its
    deliveries. Sending is requested only after commit and never inside the request.
    """
    now = timezone.now()
    organisations = _recipients(event)
    if not organisations:
        return []
    payload = _event_payload(event)
    endpoints = Endpoint.objects.filter(organisation__in=organisations, active=True).select_related(
        "organisation"
    )
    if event.event_type == "referral.escalated":
        _escalation_endpoints_ensure(organisations)
    else:
        endpoints = endpoints.filter(escalations_only=False)
    deliveries = [
        _build(
            endpoint=endpoint, event_type=event.event_type, payload=payload, event=event, now=now
        )
        for endpoint in endpoints
    ]
    Delivery.objects.bulk_create(deliveries)
    _enqueue_after_commit([d.pk for d in deliveries])
    return deliveries


def _escalation_endpoints_ensure(organisations: list[Any]) -> None:
    """Each organisation's escalation email as an email endpoint told of escalations only,
    kept in step with Organisation.escalation_email, so it goes through the outbox too."""
    for organisation in organisations:
        address = organisation.escalation_email
        existing = Endpoint.objects.filter(
            organisation=organisation, escalations_only=True, kind=Endpoint.Kind.EMAIL
        )
        if not address:
            existing.update(active=False, disabled_reason="no escalation email set")
            continue
        # One that exists is left as it is: a partner may have disabled it on purpose.
        if not existing.filter(email=address).exists():
            existing.update(active=False, disabled_reason="escalation email changed")
            Endpoint.objects.create(
                organisation=organisation,
                kind=Endpoint.Kind.EMAIL,
                email=address,
                escalations_only=True,
                description="Escalation email (unacknowledged referrals only)",
            )


def delivery_create(*, endpoint: Endpoint, event_type: str, payload: dict, event=None) -> Delivery:
    """Write one Delivery to one endpoint (e.g. an endpoint's test event), sent after commit."""
    if not endpoint.active:
        raise Conflict(
            "This endpoint is disabled.", code="endpoint_disabled", fields={"endpoint": endpoint.pk}
        )
    delivery = _build(
        endpoint=endpoint, event_type=event_type, payload=payload, event=event, now=timezone.now()
    )
    delivery.save()
    _enqueue_after_commit([delivery.pk])
    return delivery


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
            _queue_next_quietly(delivery_id=delivery_id, now=given_now)
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
    _again_on_a_new_connection(
        lambda: DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error[:500],
            finished_at=now + timedelta(milliseconds=outcome.duration_ms),
        )
    )

    changes: dict[str, Any] = {"locked_until": None}
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
            _tell_operators_of_disabled_endpoint(endpoint.pk)
    elif now >= delivery.retry_until:
        # The window is over. Cleared, so a replay starts a new one.
        changes.update(
            status=Delivery.Status.FAILED, failed_at=now, last_error=outcome.error, retry_until=None
        )
        failed = True
    else:
        asked = _retry_after(outcome.retry_after, now)
        next_at = (
            min(now + asked, delivery.retry_until)
            if asked
            else _next_attempt_at(retry_until=delivery.retry_until, now=now)
        )
        changes.update(next_attempt_at=next_at, last_error=outcome.error)

    # Only while we still hold the lease: a sender that overran it must not overwrite the next.
    updated = _again_on_a_new_connection(
        lambda: Delivery.objects.filter(pk=delivery_id, locked_until=lease).update(**changes)
    )
    if updated and failed:
        _tell_operators_of_failure(delivery_id)
    if queue_next:
        _queue_next_quietly(delivery_id=delivery_id, now=given_now)
    delivery.refresh_from_db()
    return delivery


def _queue_next_quietly(*, delivery_id: int, now: datetime | None) -> None:
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


def _operator_addresses() -> list[str]:
    from directory.models import Role, User

    users = User.objects.filter(role=Role.OPERATOR, is_active=True).exclude(email="")
    return sorted({*settings.OPERATOR_EMAILS, *users.values_list("email", flat=True)})


def _tell_operators_of_failure(delivery_id: int) -> None:
    delivery = Delivery.objects.select_related("endpoint__organisation").get(pk=delivery_id)
    recipients = _operator_addresses()
    if not recipients:
        logger.warning("delivery %s failed and no operator has an email address", delivery_id)
        return
    endpoint = delivery.endpoint
    body = (
        f"Delivery {delivery.pk} ({delivery.event_type}) to {endpoint.organisation.name} "
        f"via {endpoint.get_kind_display()} failed after {delivery.attempt_count} attempts.\n"
        f"Last error: {delivery.last_error}\n\n"
        f"Replay it from {settings.SITE_URL}/admin/integrations/delivery/{delivery.pk}/change/\n"
    )
    try:
        send_mail(
            f"frontdoor: delivery {delivery.pk} failed",
            body,
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )
    except Exception:
        logger.exception("could not email operators about failed delivery %s", delivery_id)


def _tell_operators_of_disabled_endpoint(endpoint_id: int) -> None:
    """A partner's receiver said 410 Gone: nothing more goes there until an operator (or the
    partner) switches it back on and replays what was cancelled, so someone must know."""
    endpoint = Endpoint.objects.select_related("organisation").get(pk=endpoint_id)
    recipients = _operator_addresses()
    if not recipients:
        logger.warning("endpoint %s was disabled and no operator has an email address", endpoint_id)
        return
    body = (
        f"The {endpoint.get_kind_display()} endpoint of {endpoint.organisation.name} was "
        f"switched off: {endpoint.disabled_reason}.\n"
        f"Its pending deliveries are cancelled; new events are not sent there.\n\n"
        f"Switch it back on and replay them from "
        f"{settings.SITE_URL}/admin/integrations/endpoint/{endpoint.pk}/change/\n"
    )
    try:
        send_mail(
            f"frontdoor: endpoint {endpoint.pk} disabled (410 Gone)",
            body,
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )
    except Exception:
        logger.exception("could not email operators about disabled endpoint %s", endpoint_id)


# --- the loop and the sweep ------------------------------------------------------------


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


# --- operators -------------------------------------------------------------------------


def delivery_replay(*, delivery_id: int) -> Delivery:
    """Put a failed or cancelled delivery back in the outbox, due now, with its message id.

    Its retry schedule starts again; earlier attempts stay on record and in its attempt count,
    which counts every attempt ever made.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update().select_related("endpoint").filter(pk=delivery_id)
        ).first()
        if delivery is None:
            raise DomainError("No such delivery.", code="not_found", status_code=404)
        if delivery.status not in {Delivery.Status.FAILED, Delivery.Status.CANCELLED}:
            raise Conflict(
                f"Only failed or cancelled deliveries can be replayed; this one is "
                f"{delivery.status}.",
                code="not_replayable",
                fields={"status": delivery.status},
            )
        if not delivery.endpoint.active:
            raise Conflict(
                "The endpoint is disabled; enable it before replaying.",
                code="endpoint_disabled",
                fields={"endpoint": delivery.endpoint_id},
            )
        delivery.status = Delivery.Status.PENDING
        delivery.next_attempt_at = now
        delivery.locked_until = None
        delivery.failed_at = None
        delivery.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "locked_until",
                "failed_at",
            ]
        )
        _enqueue_after_commit([delivery.pk])
    return delivery
