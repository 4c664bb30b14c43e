"""A referral, its append-only events, idempotency keys and the audit of patient reads."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    SENT = "sent", "Sent"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


# Open: sent and not yet answered. The one meaning everywhere: only open referrals expire,
# the partner's inbox puts them first, the reports count them as "open". Accepted is
# answered but not yet closed (it may still complete or be cancelled).
OPEN_STATUSES = (Status.SENT, Status.ACKNOWLEDGED)
CLOSED_STATUSES = (Status.DECLINED, Status.COMPLETED, Status.CANCELLED, Status.EXPIRED)
# The same rules as query conditions, beside the Python ones (Referral.is_open, is_closed).
OPEN = Q(status__in=OPEN_STATUSES)
CLOSED = Q(status__in=CLOSED_STATUSES)


class Urgency(models.TextChoices):
    WITHIN_1H = "within_1h", "Within 1 hour"
    WITHIN_4H = "within_4h", "Within 4 hours"
    WITHIN_24H = "within_24h", "Within 24 hours"


class DeclineReason(models.TextChoices):
    NO_CAPACITY = "no_capacity", "No capacity"
    NOT_ELIGIBLE = "not_eligible", "Patient not eligible"
    CLINICALLY_INAPPROPRIATE = "clinically_inappropriate", "Clinically inappropriate"
    OUTSIDE_AREA = "outside_area", "Outside our area"
    PATIENT_DECLINED = "patient_declined", "Patient declined"
    DUPLICATE = "duplicate", "Duplicate referral"
    OTHER = "other", "Other"


class Mobility(models.TextChoices):
    INDEPENDENT = "independent", "Walks independently"
    WITH_AID = "with_aid", "Walks with an aid"
    ASSISTED = "assisted", "Needs assistance of others"
    IMMOBILE = "immobile", "Bed- or chair-bound"
    UNKNOWN = "unknown", "Not known"


class AgeBand(models.TextChoices):
    """De-identified age, kept after patient details are purged (reports use it)."""

    CHILD = "0-17", "0-17"
    ADULT = "18-64", "18-64"
    OLDER = "65-79", "65-79"
    ELDERLY = "80+", "80+"
    UNKNOWN = "unknown", "Not known"


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        "directory.Service", on_delete=models.PROTECT, related_name="referrals"
    )
    referring_organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, related_name="referrals_made"
    )
    referring_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="referrals_made",
    )
    incident_reference = models.CharField(max_length=40)
    urgency = models.CharField(max_length=12, choices=Urgency.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)

    # Patient identifiers: blanked by purge_patient_details once the referral is old and closed.
    nhs_number = models.CharField(max_length=10, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    patient_details_purged_at = models.DateTimeField(null=True, blank=True)

    # Clinical picture.
    category = models.ForeignKey("directory.Category", on_delete=models.PROTECT)
    presenting_complaint = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True)
    observations = models.JSONField(default=dict, blank=True)
    safeguarding_concern = models.BooleanField(default=False)
    safeguarding_details = models.TextField(blank=True)
    mobility = models.CharField(max_length=12, choices=Mobility.choices, default=Mobility.UNKNOWN)

    consent_given = models.BooleanField()
    consent_recorded_at = models.DateTimeField()

    # De-identified facts kept for reports after purge.
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, default=AgeBand.UNKNOWN)
    patient_borough = models.ForeignKey(
        "directory.Borough", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Answers.
    decline_reason = models.CharField(max_length=30, choices=DeclineReason.choices, blank=True)
    decline_note = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)

    # Whether this referral still holds one of the service's counted slots.
    holds_slot = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due_at = models.DateTimeField()
    answer_due_at = models.DateTimeField()
    # Unacknowledged by then, the sweep escalates it (settings.ESCALATE_*_MINUTES by
    # urgency); escalated_at is set once, by a conditional UPDATE, so nobody is told twice.
    escalate_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(consent_given=True), name="referral_has_consent"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="referral_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "acknowledge_due_at"], name="referral_ack_due"),
            models.Index(fields=["status", "answer_due_at"], name="referral_answer_due"),
            models.Index(fields=["status", "escalate_due_at"], name="referral_escalate_due"),
            models.Index(fields=["service", "-created_at"], name="referral_service_recent"),
            models.Index(
                fields=["referring_organisation", "-created_at"], name="referral_org_recent"
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.id} ({self.status})"

    @property
    def is_open(self) -> bool:
        """Sent and not yet answered (OPEN)."""
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self) -> bool:
        """Nothing more will happen to it (CLOSED); its slot, if any, is given back or used."""
        return self.status in CLOSED_STATUSES


class ReferralEvent(models.Model):
    """One transition, append-only: who moved the referral from what to what, and why."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_organisation = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason_code = models.CharField(max_length=30, blank=True)
    note = models.TextField(blank=True)
    # The transition table's action that wrote this event (referrals/machine.py); some,
    # like "escalate", change no status.
    action = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"

    @property
    def event_type(self) -> str:
        """The name partners see: referral.created, referral.accepted, ..."""
        if self.action == "escalate":
            return "referral.escalated"
        return "referral.created" if self.to_status == Status.SENT else f"referral.{self.to_status}"


class IdempotencyKey(models.Model):
    """The first answer to a POST, replayed for the same key and body for at least 24 h."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


class PatientAccess(models.Model):
    """Audit: every read of a referral's patient details or free text, and every refused try.

    Append-only, in the database: a trigger refuses UPDATE (and, on PostgreSQL, DELETE) of
    these rows (migration 0002). Who read is kept as text too, so deleting or renaming a
    user (which PROTECT refuses while rows name them) never erases who read a record; the
    referral is PROTECTed for the same reason, and purging patient details leaves it be.
    """

    class Channel(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"
        PAGE = "page", "Page"
        # Sent to a partner's full FHIR endpoint (integrations.fhir_bars); no user.
        FHIR_MESSAGE = "fhir", "FHIR message sent"

    class Resource(models.TextChoices):
        DETAIL = "detail", "Patient details"
        EVENTS = "events", "Events (answers and notes)"

    class Outcome(models.TextChoices):
        GRANTED = "granted", "Shown"
        DENIED = "denied", "Refused (not found or not theirs)"

    # Set when the read was granted; a refused try keeps only the id asked for.
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="accesses"
    )
    referral_ref = models.UUIDField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    resource = models.CharField(max_length=8, choices=Resource.choices, default=Resource.DETAIL)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.GRANTED)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "patient accesses"

    def __str__(self) -> str:
        return f"{self.username or '-'} {self.outcome} {self.referral_ref} by {self.channel}"
