"""The search's own tables: its de-identified log, and its index derived from the services.

ServiceSearchEntry and WeeklyWindow are derived data, rebuilt by
directory.index.service_index_rebuild; SearchIndexCheck records each drift check.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from directory.models.organisations import Organisation
from directory.models.places import Borough
from directory.models.services import BankHolidayHours, Capacity, Category, Service


class SearchLog(models.Model):
    """One crew search, de-identified: no coordinates finer than the district, no patient."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    borough = models.ForeignKey(Borough, null=True, blank=True, on_delete=models.SET_NULL)
    postcode_district = models.CharField(max_length=4, blank=True)
    categories = models.JSONField(default=list, blank=True)
    age_band = models.CharField(max_length=8, blank=True)
    result_count = models.PositiveIntegerField()
    fallback_shown = models.BooleanField(default=False)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"search {self.created_at:%Y-%m-%d %H:%M} {self.borough or '-'}: {self.result_count}"


class ServiceSearchEntry(models.Model):
    """One row per (service, category) carrying the service's coordinates.

    Derived, never edited: directory.index.service_index_rebuild writes it whenever a
    service's categories or location change. It lets one indexed range scan on
    (category, latitude, longitude) find a category's candidates inside a bounding box.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="search_entries")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    latitude = models.FloatField()
    longitude = models.FloatField()

    # (H8) Copies of the service's eligibility and capacity, so the search judges a
    # candidate from this row alone instead of fetching ~1,400 service rows per search.
    # Written by service_index_rebuild and capacity_set. Rows written without them (e.g.
    # by a bulk loader that knows only the four columns above) keep facts_copied False,
    # and the search then reads the service itself for them (slower, never wrong).
    facts_copied = models.BooleanField(default=False, db_default=False)
    active = models.BooleanField(default=True, db_default=True)
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    sexes = models.JSONField(default=list, db_default=[], blank=True)
    covers_any = models.BooleanField(default=False, db_default=False)
    accepts_referrals_when_closed = models.BooleanField(default=False, db_default=False)
    bank_holiday_hours = models.CharField(
        max_length=10,
        choices=BankHolidayHours.choices,
        default=BankHolidayHours.NORMAL,
        db_default=BankHolidayHours.NORMAL,
    )
    capacity_status = models.CharField(
        max_length=7,
        choices=Capacity.choices,
        default=Capacity.UNKNOWN,
        db_default=Capacity.UNKNOWN,
    )
    capacity_slots = models.PositiveIntegerField(null=True, blank=True)
    capacity_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "category"], name="one_entry_per_category")
        ]
        indexes = [
            # service last so PostgreSQL can answer the box from the index alone.
            models.Index(
                fields=["category", "latitude", "longitude", "service"],
                name="search_entry_cat_lat_lon",
            )
        ]

    def __str__(self) -> str:
        return f"service {self.service_id} in category {self.category_id}"


class WeeklyWindow(models.Model):
    """A service's merged weekly opening, in minutes of the week (Monday 00:00 = 0).

    Europe/London wall-clock minutes, derived from OpeningSpan by
    directory.index.service_index_rebuild. `ends` may pass 10080 when the window runs on
    into Monday; a service open all week has one window 0..20160. Dated exceptions, bank
    holidays and clock changes are not in here: the search checks those exactly.
    """

    MINUTES_PER_WEEK = 7 * 24 * 60

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="weekly_windows")
    starts = models.PositiveIntegerField()
    ends = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["service", "starts", "ends"], name="weekly_window_service")]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="window_not_empty")
        ]

    def __str__(self) -> str:
        return f"service {self.service_id}: minutes {self.starts}-{self.ends} of the week"


class SearchIndexCheck(models.Model):
    """The outcome of one `manage.py check_search_index` run, shown to operators."""

    checked_at = models.DateTimeField(db_index=True)
    rows_checked = models.PositiveIntegerField()
    differences = models.PositiveIntegerField()
    report = models.TextField(blank=True, help_text="The first differences found.")

    class Meta:
        ordering = ["-checked_at"]
        get_latest_by = "checked_at"

    def __str__(self) -> str:
        return f"index check {self.checked_at:%Y-%m-%d %H:%M}: {self.differences} differences"
