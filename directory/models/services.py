"""Services: what they offer, where, when, for whom, and with how much room.

A service has categories, one site (Location), weekly hours (OpeningSpan), dated
exceptions and a capacity status. Writes to a service, its site or its weekly hours
keep the search index in step (directory.index), through directory.services or the
indexed QuerySets below.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from directory.models.organisations import Organisation
from directory.models.places import Borough


class Category(models.Model):
    """A coded service category; the codes are created by a data migration."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class IndexedQuerySet(models.QuerySet):
    """A QuerySet whose bulk writes keep the search index in step, in the same transaction.

    Why a QuerySet: a bare `Service.objects.filter(...).update(active=False)` skips every
    service function, and used to leave the index saying "active", so the API's fast path
    listed what explain called inactive. update() (and delete(), for weekly hours) here
    fix the rows they touch and re-index their services through
    directory.index.services_index_rebuild before returning. It updates exactly the rows
    it re-indexes (pk__in the ids it read, with the caller's filter kept), so a row that
    starts matching meanwhile is neither changed nor missed. Instance save(), bulk_create
    and many-to-many set() are whole-object writes that go through directory.services
    (service_save, location_save); `manage.py check_search_index` reports any other path.
    """

    indexed_fields: frozenset[str] = frozenset()
    CHUNK = 500

    def _service_ids(self, pks: list) -> set[int]:
        raise NotImplementedError

    def _chunks(self, pks: list):
        return (pks[first : first + self.CHUNK] for first in range(0, len(pks), self.CHUNK))

    def update(self, **kwargs) -> int:
        names = {self.model._meta.get_field(name).name for name in kwargs}
        if not names & self.indexed_fields:
            return super().update(**kwargs)
        from directory.index import services_index_rebuild

        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            before = self._service_ids(pks)
            count = sum(
                super(IndexedQuerySet, self.filter(pk__in=chunk)).update(**kwargs)
                for chunk in self._chunks(pks)
            )
            # A moved span re-indexes the service it left and the one it joined.
            services_index_rebuild(service_ids=before | self._service_ids(pks))
        return count


class ServiceQuerySet(IndexedQuerySet):
    @property
    def indexed_fields(self) -> frozenset[str]:
        from directory.index import SERVICE_INDEXED_FIELDS

        return SERVICE_INDEXED_FIELDS

    def _service_ids(self, pks: list) -> set[int]:
        return set(pks)


class LocationQuerySet(IndexedQuerySet):
    @property
    def indexed_fields(self) -> frozenset[str]:
        from directory.index import LOCATION_INDEXED_FIELDS

        return LOCATION_INDEXED_FIELDS

    def _service_ids(self, pks: list) -> set[int]:
        found: set[int] = set()
        for chunk in self._chunks(pks):
            found.update(Service.objects.filter(location_id__in=chunk).values_list("pk", flat=True))
        return found


class OpeningSpanQuerySet(IndexedQuerySet):
    indexed_fields = frozenset({"service", "weekday", "opens", "closes"})

    def _service_ids(self, pks: list) -> set[int]:
        found: set[int] = set()
        for chunk in self._chunks(pks):
            found.update(
                OpeningSpan.objects.filter(pk__in=chunk).values_list("service_id", flat=True)
            )
        return found

    def delete(self):
        from directory.index import services_index_rebuild

        with transaction.atomic(using=self.db):
            service_ids = set(self.values_list("service_id", flat=True))
            deleted = super().delete()
            services_index_rebuild(service_ids=service_ids)
        return deleted


class Location(models.Model):
    name = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=8, help_text="Normalised, e.g. SW1A 1AA")
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    borough = models.ForeignKey(Borough, on_delete=models.PROTECT)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="locations"
    )
    # Stable public id (HSDS, FHIR); imports upsert on it.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    objects = LocationQuerySet.as_manager()

    class Meta:
        # The search's bounding box runs on this index.
        indexes = [models.Index(fields=["latitude", "longitude"], name="location_lat_lon")]

    def __str__(self) -> str:
        return f"{self.name or self.address}, {self.postcode}"

    @property
    def ics(self) -> str:
        return self.borough.ics


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class Capacity(models.TextChoices):
    GREEN = "GREEN", "Green: taking referrals"
    AMBER = "AMBER", "Amber: under pressure"
    RED = "RED", "Red: not taking referrals"
    UNKNOWN = "UNKNOWN", "Unknown"


class BankHolidayHours(models.TextChoices):
    NORMAL = "normal", "Usual hours"
    CLOSED = "closed", "Closed"
    SUNDAY = "sunday", "Sunday hours"


class Service(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="services"
    )
    name = models.CharField(max_length=200)
    public_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    categories = models.ManyToManyField(Category, related_name="services")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="services")
    active = models.BooleanField(default=True)
    # Stable public id (HSDS, FHIR); imports upsert on it, so a re-import finds the service.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    phone = models.CharField("public phone", max_length=30, blank=True)
    # Shown to crews and partners only, never in public feeds.
    professional_phone = models.CharField(max_length=30, blank=True)
    referral_instructions = models.TextField(blank=True)
    referral_roles = models.JSONField(
        default=list, blank=True, help_text='Roles that may refer, e.g. ["crew"]'
    )
    accepts_referrals_when_closed = models.BooleanField(default=False)
    # A team that goes to the patient needs to know where: referrals must give the address.
    visits_at_home = models.BooleanField(
        default=False, help_text="Sees patients at home: referrals must give their address"
    )
    acknowledge_within_minutes = models.PositiveIntegerField(default=30)
    answer_within_minutes = models.PositiveIntegerField(default=120)

    # Eligibility.
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    sexes = models.JSONField(default=list, blank=True, help_text="Empty means all")
    inclusion_criteria = models.TextField(blank=True)
    exclusion_criteria = models.TextField(blank=True)
    boroughs_covered = models.ManyToManyField(
        Borough, blank=True, related_name="services_covering", help_text="Empty means anywhere"
    )

    bank_holiday_hours = models.CharField(
        max_length=10, choices=BankHolidayHours.choices, default=BankHolidayHours.NORMAL
    )

    # Capacity: the latest status a partner set, live until capacity_expires_at.
    capacity_status = models.CharField(
        max_length=7, choices=Capacity.choices, default=Capacity.UNKNOWN
    )
    capacity_slots = models.PositiveIntegerField(null=True, blank=True)
    capacity_updated_at = models.DateTimeField(null=True, blank=True)
    capacity_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    capacity_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity_slots__isnull=True) | Q(capacity_slots__gte=0),
                name="service_slots_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(min_age__lte=F("max_age")),
                name="service_age_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def capacity_at(self, at: datetime | None = None) -> str:
        """The capacity status as a crew should read it: stale status reads UNKNOWN."""
        from directory.eligibility import capacity_status_at  # the one expiry rule

        return capacity_status_at(
            self.capacity_status, self.capacity_expires_at, at or timezone.now()
        )

    def counts_slots(self) -> bool:
        return self.capacity_slots is not None


class OpeningSpan(models.Model):
    """A weekly opening span in Europe/London wall-clock time.

    closes <= opens means the span runs overnight into the next day; 00:00-00:00 is the
    whole day.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="opening_spans")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    objects = OpeningSpanQuerySet.as_manager()

    class Meta:
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


EXCEPTION_CHOICE_MESSAGE = (
    "A dated exception is either closed all day or open for given times: tick closed all "
    "day, or enter the opening and closing times, not both."
)


class OpeningException(models.Model):
    """A dated change to the weekly hours: closed all day, or open for the given span.

    Exactly one of the two, chosen on purpose: there is no default, because a default of
    "closed" once turned a day of extended hours into a closed day without a word.
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="opening_exceptions"
    )
    date = models.DateField()
    closed = models.BooleanField("closed all day")
    opens = models.TimeField(null=True, blank=True)
    closes = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["service", "date"], name="one_exception_per_day"),
            models.CheckConstraint(
                condition=(Q(closed=True) & Q(opens__isnull=True) & Q(closes__isnull=True))
                | (Q(closed=False) & Q(opens__isnull=False) & Q(closes__isnull=False)),
                name="exception_closed_or_hours",
                violation_error_message=EXCEPTION_CHOICE_MESSAGE,
            ),
        ]
        indexes = [models.Index(fields=["date", "service"], name="exception_date_service")]

    def __str__(self) -> str:
        return f"{self.date}: {'closed' if self.closed else f'{self.opens}-{self.closes}'}"

    def clean(self) -> None:
        # The same rule as the constraint above, said field by field for the admin form.
        if self.closed and (self.opens is not None or self.closes is not None):
            raise ValidationError(
                {
                    "closed": "Closed all day has no opening times: untick it to open for "
                    "these hours instead, or clear the times."
                }
            )
        if not self.closed:
            missing = {
                name: f"Enter the {label} time, or tick closed all day."
                for name, label in (("opens", "opening"), ("closes", "closing"))
                if getattr(self, name) is None
            }
            if missing:
                raise ValidationError(missing)


def default_capacity_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(minutes=settings.CAPACITY_DEFAULT_TTL_MINUTES)
