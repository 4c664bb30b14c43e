"""Where partners are told (endpoints) and the outbox of what they must be told (deliveries)."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from integrations.fields import EncryptedSecretField


def new_webhook_secret() -> str:
    # Standard Webhooks secrets are base64 of random bytes behind a whsec_ prefix.
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Endpoint(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Signed JSON webhook"
        FHIR = "fhir", "FHIR R4 message"
        EMAIL = "email", "Email (link only)"

    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="endpoints"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    url = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    # Encrypted in the database (integrations/fields.py); endpoint.secret is the plain secret.
    secret = EncryptedSecretField(max_length=255, default=new_webhook_secret, editable=False)
    description = models.CharField(max_length=200, blank=True)
    # FHIR only: send the full BaRS-style message with the patient (integrations.fhir_bars)
    # instead of the thin notification. Patient details: https only, each send audited.
    full_message = models.BooleanField(
        "full FHIR message (with patient details)", default=False, db_default=False
    )
    active = models.BooleanField(default=True)
    # The organisation's escalation email (directory Organisation.escalation_email): told
    # of escalations only, not of every event.
    escalations_only = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="email") & ~Q(email="")) | (~Q(kind="email") & ~Q(url="")),
                name="endpoint_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.url or self.email}"


class Delivery(models.Model):
    """One message to one endpoint, written in the same transaction as its event (outbox)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled (endpoint disabled)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        "referrals.ReferralEvent",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event_type = models.CharField(max_length=40)
    # The webhook-id header: the same on every retry so receivers can de-duplicate.
    message_id = models.CharField(max_length=40, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender holds the delivery until this time; another sender may take it after.
    locked_until = models.DateTimeField(null=True, blank=True)
    # Who holds it ("host:pid"), so a sender restarted on the same host can free at once
    # what its killed predecessor held, rather than wait out the lease.
    locked_by = models.CharField(max_length=100, blank=True, default="")
    # With a broker: a task for it was queued and has not run yet. Until this time the sweep
    # queues no other (it counts against the endpoint's send slots); a lost task only costs
    # the wait until then.
    queued_until = models.DateTimeField(null=True, blank=True)
    # The end of the retry window: set by the first attempt (again by the first after a
    # replay) to 24 h later; a failed attempt at or after it fails the delivery. Time, not
    # a count of attempts, bounds the schedule, so short Retry-After waits cannot use it up.
    retry_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Written before the request goes out and filled in after: an attempt whose sender was
    # killed mid-send stays on record with no finish time.
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
