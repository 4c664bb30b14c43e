"""The demo partner's notification endpoints, and the small receiver its webhook points at.

seed_demo() calls demo_endpoints_seed() so that, out of the box, the demo partner is told of
each referral twice: by email (printed on the console by the development mail backend) and by
a signed webhook to `manage.py demo_receiver` on 127.0.0.1, which `make run` starts beside
the server. The receiver checks each message's signature and logs what arrived, never more
than the event, its status and the referral's id (the payload carries no patient anyway).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from directory.models import Organisation
from integrations.models import Endpoint

DEMO_EMAIL = "referrals@demo-partner.invalid"
DEMO_EMAIL_DESCRIPTION = "Demo email: printed on the console by the development mail backend"
DEMO_WEBHOOK_DESCRIPTION = "Demo webhook: manage.py demo_receiver, started by make run"
DEMO_WEBHOOK_PATH = "/frontdoor/webhook"
# Standard Webhooks: refuse messages whose timestamp is further than this from our clock.
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60


def demo_receiver_url(port: int | None = None) -> str:
    return f"http://127.0.0.1:{port or settings.DEMO_RECEIVER_PORT}{DEMO_WEBHOOK_PATH}"


def demo_endpoints_seed(*, organisation: Organisation) -> int:
    """Give the demo partner an email and a webhook endpoint if missing; returns how many
    rows were added or changed. The webhook follows DEMO_RECEIVER_PORT from run to run."""
    changed = 0
    mine = Endpoint.objects.filter(organisation=organisation)
    if not mine.filter(kind=Endpoint.Kind.EMAIL, email=DEMO_EMAIL).exists():
        Endpoint.objects.create(
            organisation=organisation,
            kind=Endpoint.Kind.EMAIL,
            email=DEMO_EMAIL,
            description=DEMO_EMAIL_DESCRIPTION,
        )
        changed += 1
    if not settings.OUTBOUND_ALLOW_PRIVATE:
        return changed  # a loopback receiver would be refused by integrations.http anyway
    url = demo_receiver_url()
    webhook = mine.filter(kind=Endpoint.Kind.WEBHOOK, description=DEMO_WEBHOOK_DESCRIPTION).first()
    if webhook is None:
        Endpoint.objects.create(
            organisation=organisation,
            kind=Endpoint.Kind.WEBHOOK,
            url=url,
            description=DEMO_WEBHOOK_DESCRIPTION,
        )
        changed += 1
    elif webhook.url != url:
        webhook.url = url
        webhook.save(update_fields=["url"])
        changed += 1
    return changed


# --- the receiver's checks (pure functions; the command does the HTTP) --------------------


def signature_valid(
    *, secrets: list[str], headers: dict[str, str], body: bytes, now: float | None = None
) -> bool:
    """Standard Webhooks verification: any v1 signature over id.timestamp.body under any of
    the secrets, with a timestamp within the tolerance (a replayed old message fails)."""
    message_id = headers.get("webhook-id", "")
    raw_timestamp = headers.get("webhook-timestamp", "")
    if not message_id or not raw_timestamp.isdigit():
        return False
    now = time.time() if now is None else now
    if abs(now - int(raw_timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        return False
    signed = f"{message_id}.{raw_timestamp}.".encode() + body
    offered = [
        part.removeprefix("v1,")
        for part in headers.get("webhook-signature", "").split()
        if part.startswith("v1,")
    ]
    for secret in secrets:
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"))
        except (binascii.Error, ValueError):
            continue
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return True
    return False


@dataclass(frozen=True)
class Received:
    """What the receiver logs of a message: the event and ids, nothing about the patient."""

    message_id: str
    event_type: str
    status: str
    referral_id: str

    def line(self) -> str:
        about = f" for referral {self.referral_id}" if self.referral_id else ""
        status = f" (status {self.status})" if self.status else ""
        return f"{self.event_type}{about}{status}, message {self.message_id}"


def received_summary(*, headers: dict[str, str], body: bytes) -> Received:
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = {}
    data = payload.get("data", {}) if isinstance(payload, dict) else {}
    data = data if isinstance(data, dict) else {}
    return Received(
        message_id=headers.get("webhook-id", "")[:40],
        event_type=str(payload.get("type", "unknown") if isinstance(payload, dict) else "unknown")[
            :40
        ],
        status=str(data.get("status", ""))[:20],
        referral_id=str(data.get("referral_id", ""))[:36],
    )
