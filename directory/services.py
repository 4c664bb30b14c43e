"""Directory writes: capacity, and the search index derived from services and their hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from config.errors import DomainError
from directory.models import (
    Capacity,
    OpeningSpan,
    Service,
    ServiceSearchEntry,
    WeeklyWindow,
)
from directory.permissions import can_set_capacity

CAPACITY_MIN_MINUTES = 15
CAPACITY_MAX_MINUTES = 120 * 60
# No service counts more slots than this; it also keeps a typo inside the database integer.
CAPACITY_MAX_SLOTS = 10_000
SETTABLE_STATUSES = (Capacity.GREEN, Capacity.AMBER, Capacity.RED)

WEEK = WeeklyWindow.MINUTES_PER_WEEK
# Service columns copied onto every ServiceSearchEntry of the service (see the model).
SEARCH_CAPACITY_FIELDS = ("capacity_status", "capacity_slots", "capacity_expires_at")
SEARCH_FACT_FIELDS = (
    "active",
    "min_age",
    "max_age",
    "sexes",
    "bank_holiday_hours",
    "accepts_referrals_when_closed",
    *SEARCH_CAPACITY_FIELDS,
)
DAY = 24 * 60


def capacity_set(
    *,
    service: Service,
    user,
    status: str,
    slots: int | None = None,
    expires_in_minutes: int | None = None,
) -> Service:
    """Set a service's capacity as a partner reports it, live for a while and then UNKNOWN.

    Refused (403) unless directory.permissions.can_set_capacity allows the user. The status
    expires after expires_in_minutes (15 min .. 120 h; default
    settings.CAPACITY_DEFAULT_TTL_MINUTES). Who and when are recorded on the service.
    """
    if not can_set_capacity(user, service):
        raise DomainError(
            "You may not set this service's capacity.", code="permission_denied", status_code=403
        )
    fields: dict[str, str] = {}
    if status not in SETTABLE_STATUSES:
        fields["status"] = f"Must be one of {', '.join(SETTABLE_STATUSES)}."
    if slots is not None and (
        isinstance(slots, bool)
        or not isinstance(slots, int)
        or not 0 <= slots <= CAPACITY_MAX_SLOTS
    ):
        fields["slots"] = f"Must be a whole number, 0 to {CAPACITY_MAX_SLOTS}, or left out."
    if expires_in_minutes is None:
        expires_in_minutes = settings.CAPACITY_DEFAULT_TTL_MINUTES
    if (
        isinstance(expires_in_minutes, bool)
        or not isinstance(expires_in_minutes, int)
        or not CAPACITY_MIN_MINUTES <= expires_in_minutes <= CAPACITY_MAX_MINUTES
    ):
        fields["expires_in_minutes"] = (
            f"Must be between {CAPACITY_MIN_MINUTES} and {CAPACITY_MAX_MINUTES} minutes."
        )
    if fields:
        raise DomainError("The capacity is not valid.", code="invalid", fields=fields)

    now = timezone.now()
    values = {
        "capacity_status": status,
        "capacity_slots": slots,
        "capacity_updated_at": now,
        "capacity_updated_by": user if getattr(user, "pk", None) else None,
        "capacity_expires_at": now + timedelta(minutes=expires_in_minutes),
    }
    with transaction.atomic():
        # One UPDATE: concurrent setters cannot leave a mix of two reports; the last one wins.
        Service.objects.filter(pk=service.pk).update(**values)
        # The search's copy, in the same transaction so it never disagrees with the service.
        ServiceSearchEntry.objects.filter(service_id=service.pk).update(
            **{name: values[name] for name in SEARCH_CAPACITY_FIELDS}
        )
    for name, value in values.items():
        setattr(service, name, value)
    return service


def service_slot_take(*, service_id: int) -> bool:
    """Take one of a service's counted slots for a referral; False if none is left.

    Call inside the referral's transaction. The search's copy of the slots follows in the
    same transaction, so the search never offers a slot that was just taken.
    """
    # Conditional UPDATE: the database decides who gets the last slot, never a read.
    taken = Service.objects.filter(pk=service_id, capacity_slots__gt=0).update(
        capacity_slots=F("capacity_slots") - 1
    )
    if taken:
        _search_slots_copy(service_id)
    return taken == 1


def service_slot_return(*, service_id: int) -> None:
    """Give a slot back (decline, cancel, expiry), unless the service stopped counting slots."""
    returned = Service.objects.filter(pk=service_id, capacity_slots__isnull=False).update(
        capacity_slots=F("capacity_slots") + 1
    )
    if returned:
        _search_slots_copy(service_id)


def _search_slots_copy(service_id: int) -> None:
    # Copied from the service row rather than adjusted, so a copy can never drift.
    ServiceSearchEntry.objects.filter(service_id=service_id).update(
        capacity_slots=Subquery(Service.objects.filter(pk=service_id).values("capacity_slots")[:1])
    )


# --- search index ------------------------------------------------------------------------


def weekly_windows(spans: Iterable[tuple[int, object, object]]) -> list[tuple[int, int]]:
    """Merge weekly spans (weekday, opens, closes) into minute-of-week windows.

    Same reading as directory.hours: closes <= opens runs overnight, 00:00-00:00 is the
    whole day. A window running past Sunday midnight continues at Monday 00:00, so the
    Sunday window's end is stretched past WEEK to where the Monday part ends (the search
    reads a window's end as the closing time); open all week is one window 0..2*WEEK.
    """
    pieces: list[tuple[int, int]] = []
    for weekday, opens, closes in spans:
        start = weekday * DAY + opens.hour * 60 + opens.minute
        close_minute = closes.hour * 60 + closes.minute
        length = close_minute - (opens.hour * 60 + opens.minute)
        if length <= 0:
            length += DAY
        end = start + length
        if end > WEEK:
            pieces.append((start, WEEK))
            pieces.append((0, end - WEEK))
        else:
            pieces.append((start, end))
    pieces.sort()
    merged: list[list[int]] = []
    for start, end in pieces:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if merged and merged[0][0] == 0 and merged[-1][1] >= WEEK:
        if len(merged) == 1:
            merged[0][1] = 2 * WEEK
        else:
            merged[-1][1] = WEEK + merged[0][1]
    return [(start, end) for start, end in merged]


def service_index_rebuild(*, service: Service) -> None:
    """Rewrite the search's derived rows for one service: its category entries and windows.

    Call after saving a service's categories, location, weekly hours, eligibility (age,
    sexes, boroughs covered, active) or bank-holiday hours (the admin does so after
    saving inlines; seed commands through services_index_rebuild). Capacity written by
    capacity_set is copied there too; dated exceptions are read live.
    """
    services_index_rebuild(service_ids=[service.pk])


def services_index_rebuild(*, service_ids: Iterable[int] | None = None) -> int:
    """service_index_rebuild for many services at once (all when service_ids is None).

    Returns how many services were indexed. Each chunk is written in one transaction so
    the search never sees a service half-indexed.
    """
    if service_ids is None:
        ids = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(service_ids))
    for first in range(0, len(ids), INDEX_CHUNK):
        _index_chunk(ids[first : first + INDEX_CHUNK])
    return len(ids)


INDEX_CHUNK = 2000


def _index_chunk(ids: list[int]) -> None:
    entries: list[ServiceSearchEntry] = []
    windows: list[WeeklyWindow] = []
    category_ids: dict[int, list[int]] = {}
    spans: dict[int, list[tuple]] = {}
    with transaction.atomic():
        places: dict[int, tuple[float, float]] = {}
        facts: dict[int, dict] = {}
        for row in Service.objects.filter(pk__in=ids).values(
            "pk", "location__latitude", "location__longitude", *SEARCH_FACT_FIELDS
        ):
            places[row["pk"]] = (row["location__latitude"], row["location__longitude"])
            facts[row["pk"]] = {name: row[name] for name in SEARCH_FACT_FIELDS}
        covering = set(
            Service.boroughs_covered.through.objects.filter(service_id__in=ids).values_list(
                "service_id", flat=True
            )
        )
        through = Service.categories.through
        for service_id, category_id in through.objects.filter(service_id__in=ids).values_list(
            "service_id", "category_id"
        ):
            category_ids.setdefault(service_id, []).append(category_id)
        for service_id, weekday, opens, closes in OpeningSpan.objects.filter(
            service_id__in=ids
        ).values_list("service_id", "weekday", "opens", "closes"):
            spans.setdefault(service_id, []).append((weekday, opens, closes))
        for service_id, (latitude, longitude) in places.items():
            for category_id in category_ids.get(service_id, []):
                entries.append(
                    ServiceSearchEntry(
                        service_id=service_id,
                        category_id=category_id,
                        latitude=latitude,
                        longitude=longitude,
                        facts_copied=True,
                        covers_any=service_id in covering,
                        **facts[service_id],
                    )
                )
            for starts, ends in weekly_windows(spans.get(service_id, [])):
                windows.append(WeeklyWindow(service_id=service_id, starts=starts, ends=ends))
        ServiceSearchEntry.objects.filter(service_id__in=ids).delete()
        WeeklyWindow.objects.filter(service_id__in=ids).delete()
        ServiceSearchEntry.objects.bulk_create(entries, batch_size=2000)
        WeeklyWindow.objects.bulk_create(windows, batch_size=2000)


def location_index_rebuild(*, location_id: int) -> None:
    """After a location moves: re-index every service at it."""
    services_index_rebuild(
        service_ids=Service.objects.filter(location_id=location_id).values_list("pk", flat=True)
    )
