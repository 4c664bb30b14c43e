"""The transactional outbox: the deliveries an event must cause, and a delivery put back.

A Delivery is written in the same transaction as the event it tells of; if the event rolls
back, so do its deliveries. Sending is only asked for after commit (integrations/queueing.py)
and done by integrations/sending.py. A failed or cancelled delivery is replayed here, with its
message id, as a new schedule.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.compiled import insert
from config.errors import Conflict, DomainError
from integrations.fhir import message_bundle, referral_api_url
from integrations.models import Delivery, Endpoint
from integrations.queueing import enqueue_after_commit, queued_mark


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
        queued_until=queued_mark(now),
    )


def endpoints_told_of_events() -> QuerySet[Endpoint]:
    """The endpoints told of every event of their organisation's (escalations apart)."""
    return Endpoint.objects.filter(active=True, escalations_only=False)


def endpoints_from_json(rows: list[dict[str, Any]] | None) -> list[Endpoint]:
    """Endpoints read as json_rows(endpoints_told_of_events(), ..., **ENDPOINT_JSON_COLUMNS)
    beside another row, as the outbox needs them (id, organisation, kind, url)."""
    endpoints = [
        Endpoint(id=row["id"], organisation_id=row["org"], kind=row["kind"], url=row["url"])
        for row in rows or []
    ]
    return sorted(endpoints, key=lambda e: e.pk)


ENDPOINT_JSON_COLUMNS = {"id": "id", "org": "organisation_id", "kind": "kind", "url": "url"}


def deliveries_create_for_event(
    *, event, endpoints: list[Endpoint] | None = None
) -> list[Delivery]:
    """Write one Delivery per active endpoint that must hear of this event.

    Runs inside the caller's transaction (the outbox): if the event rolls back, so do its
    deliveries. Sending is requested only after commit and never inside the request.
    `endpoints`: the recipients' endpoints_told_of_events(), when the caller has read them
    already in this transaction (referral creation reads them with the service).
    """
    now = timezone.now()
    organisations = _recipients(event)
    if not organisations:
        return []
    payload = _event_payload(event)
    if event.event_type == "referral.escalated":
        _escalation_endpoints_ensure(organisations)
        endpoints = list(Endpoint.objects.filter(organisation__in=organisations, active=True))
    elif endpoints is None:
        endpoints = list(endpoints_told_of_events().filter(organisation__in=organisations))
    deliveries = [
        _build(
            endpoint=endpoint, event_type=event.event_type, payload=payload, event=event, now=now
        )
        for endpoint in endpoints
    ]
    # bulk_create's one statement, its SQL compiled once per connection (config/compiled.py).
    insert(deliveries)
    enqueue_after_commit([d.pk for d in deliveries])
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
    enqueue_after_commit([delivery.pk])
    return delivery


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
        delivery.queued_until = queued_mark(now)
        delivery.save(
            update_fields=["status", "next_attempt_at", "locked_until", "failed_at", "queued_until"]
        )
        enqueue_after_commit([delivery.pk])
    return delivery
