"""Organisations and their users: every user belongs to one organisation and has one role."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from directory.models.places import ICS, Borough


class Organisation(models.Model):
    class Kind(models.TextChoices):
        AMBULANCE_TRUST = "ambulance_trust", "Ambulance trust"
        NHS_TRUST = "nhs_trust", "NHS trust"
        GP_FEDERATION = "gp_federation", "GP federation"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        VOLUNTARY = "voluntary", "Voluntary sector"
        ICB = "icb", "Integrated care board"
        PRIVATE = "private", "Independent provider"

    name = models.CharField(max_length=200)
    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    borough = models.ForeignKey(Borough, null=True, blank=True, on_delete=models.PROTECT)
    ics = models.CharField(max_length=3, choices=ICS.choices, blank=True)
    # Stable public id (HSDS, FHIR); imports upsert on it.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Told (as well as every active endpoint) when a referral to one of its services goes
    # unacknowledged past its urgency's deadline.
    escalation_email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CREW = "crew", "Crew"
    PARTNER = "partner", "Partner"
    PLANNER = "planner", "Planner"
    OPERATOR = "operator", "Operator"


class User(AbstractUser):
    """Every user belongs to one organisation and has one role; access follows from both."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CREW)

    class Meta:
        constraints = [
            # Only superusers made from the command line may lack an organisation.
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(is_superuser=True),
                name="user_has_organisation",
            ),
        ]
