"""One transport per endpoint kind: how a delivery's payload reaches the partner.

A transport sends once and reports what happened as an Outcome. Deciding what that
outcome means for the delivery (delivered, retry when, give up, disable the endpoint)
is integrations.sending's job, the same for every kind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.urls import NoReverseMatch, reverse

from integrations import http
from integrations.fhir import referral_api_url

if TYPE_CHECKING:
    from integrations.models import Delivery


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0
    # Raw Retry-After header of a 429 or 503 answer.
    retry_after: str | None = None
    # The receiver says this endpoint is gone for good (410).
    gone: bool = False


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks signature header value: v1,<base64 HMAC-SHA256 of id.timestamp.body>."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _outcome_of(result: http.HttpResult) -> Outcome:
    if result.error:
        return Outcome(ok=False, error=result.error, duration_ms=result.duration_ms)
    status = result.status or 0
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status, duration_ms=result.duration_ms)
    redirect = 300 <= status < 400
    error = f"HTTP {status}: redirect not followed" if redirect else f"HTTP {status}"
    return Outcome(
        ok=False,
        status_code=status,
        error=error,
        duration_ms=result.duration_ms,
        retry_after=result.headers.get("retry-after") if status in {429, 503} else None,
        gone=status == 410,
    )


class Transport:
    content_type: ClassVar[str] = "application/json"

    def send(self, delivery: Delivery) -> Outcome:
        raise NotImplementedError


class WebhookTransport(Transport):
    """Signed JSON POST with Standard Webhooks headers; webhook-id is the same on every retry."""

    def send(self, delivery: Delivery) -> Outcome:
        endpoint = delivery.endpoint
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        # The real clock, not a test's `now`: receivers check the timestamp against theirs.
        timestamp = int(time.time())
        headers = {
            "Content-Type": self.content_type,
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                secret=endpoint.secret,
                message_id=delivery.message_id,
                timestamp=timestamp,
                body=body,
            ),
        }
        return _outcome_of(http.post(endpoint.url, body=body, headers=headers))


class FhirTransport(WebhookTransport):
    """The same signed POST; the payload is the FHIR message Bundle built with the delivery.

    An endpoint with full_message on gets the full BaRS-style message instead
    (integrations.fhir_bars), built now from the referral, never stored in the outbox.
    """

    content_type = "application/fhir+json"

    def send(self, delivery: Delivery) -> Outcome:
        if not (delivery.endpoint.full_message and delivery.event_id):
            return super().send(delivery)
        return _send_full_message(self, delivery)


def _send_full_message(transport: FhirTransport, delivery: Delivery) -> Outcome:
    # Imported here: referrals.services imports integrations at load time.
    from django.utils import timezone

    from integrations.fhir_bars import full_message_bundle
    from referrals.audit import patient_access_record
    from referrals.models import PatientAccess

    endpoint = delivery.endpoint
    # Checked at every send, not only at registration: patient details never go over
    # plain http unless loopback targets are allowed (development and tests).
    if urlsplit(endpoint.url).scheme != "https" and not settings.OUTBOUND_ALLOW_PRIVATE:
        return Outcome(ok=False, error="a full FHIR message needs an https URL")
    referral = delivery.event.referral
    bundle = full_message_bundle(
        message_id=delivery.message_id,
        event=delivery.event,
        destination=endpoint.url,
        at=timezone.now(),
    )
    body = json.dumps(bundle, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": transport.content_type,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=endpoint.secret, message_id=delivery.message_id, timestamp=timestamp, body=body
        ),
        # BaRS: a new request id per attempt, one correlation id for the whole referral.
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": str(referral.pk),
    }
    # Recorded before the bytes leave: a timed-out attempt may still have disclosed them.
    patient_access_record(user=None, referral=referral, channel=PatientAccess.Channel.FHIR_MESSAGE)
    return _outcome_of(http.post(endpoint.url, body=body, headers=headers))


def _page_url(delivery: Delivery) -> str:
    """The referral's page for this endpoint's side: the partner's inbox or the crew's status."""
    event = delivery.event
    if event is None:
        return f"{settings.SITE_URL}/"
    referral = event.referral
    receiving = delivery.endpoint.organisation_id == referral.service.organisation_id
    name = "partner-referral" if receiving else "referral-status"
    try:
        path = reverse(name, kwargs={"referral_id": referral.pk})
    except NoReverseMatch:  # pages not mounted: the site's front page still helps
        path = "/"
    return f"{settings.SITE_URL}{path}"


# What each status means to the person reading the email, said as a subject line.
_SUBJECTS = {
    "sent": "New referral for {service}: {urgency}",
    "acknowledged": "Referral to {service} acknowledged",
    "accepted": "Referral to {service} accepted",
    "declined": "Referral to {service} declined",
    "completed": "Referral to {service} completed",
    "cancelled": "Referral to {service} cancelled by the crew",
    "expired": "Referral to {service} expired without an answer",
}


def email_subject(delivery: Delivery) -> str:
    """A subject a person reads at a glance: the service and what happened, no patient."""
    event = delivery.event
    if event is None:
        if delivery.event_type == "endpoint.test":
            return "Test message from frontdoor: your email notifications work"
        return "A message from frontdoor about your notifications"
    referral = event.referral
    template = _SUBJECTS.get(event.to_status, "Referral to {service} updated")
    urgency = referral.get_urgency_display()
    return template.format(service=referral.service.name, urgency=urgency[:1].lower() + urgency[1:])


class EmailTransport(Transport):
    """Django's email backend; only the event, the status and a link: no patient details."""

    def send(self, delivery: Delivery) -> Outcome:
        data = delivery.payload.get("data", {})
        referral_id = data.get("referral_id")
        started = time.monotonic()
        subject = email_subject(delivery)
        if referral_id:
            body = (
                f"{subject}.\n\n"
                f"Open it in frontdoor: {_page_url(delivery)}\n"
                f"API: {referral_api_url(referral_id)}\n\n"
                "Patient details are not sent by email. Sign in to read them.\n"
                f"Event: {delivery.event_type} (status {data.get('status', '')}); "
                f"message id: {delivery.message_id}\n"
            )
        else:
            body = (
                f"This is a {delivery.event_type} message from frontdoor "
                f"({settings.SITE_URL}/).\nMessage id: {delivery.message_id}\n"
            )
        try:
            send_mail(
                subject,
                body,
                settings.DEFAULT_FROM_EMAIL,
                [delivery.endpoint.email],
                fail_silently=False,
            )
        except Exception as exc:  # any backend failure is a failed attempt, retried later
            return Outcome(
                ok=False,
                error=f"email error: {exc or type(exc).__name__}"[:500],
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        return Outcome(ok=True, duration_ms=int((time.monotonic() - started) * 1000))


TRANSPORTS: dict[str, type[Transport]] = {
    "webhook": WebhookTransport,
    "fhir": FhirTransport,
    "email": EmailTransport,
}


def transport_for(kind: str) -> Transport:
    return TRANSPORTS[kind]()
