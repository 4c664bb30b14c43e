"""The search index: what its rows hold (index_rows), writing them, and checking them.

ServiceSearchEntry and WeeklyWindow are derived from services, their sites and weekly
hours. index_rows is the one builder; the rebuilds write what it returns and
search_index_check compares the stored rows with it. Every write that moves a service's
listing calls a rebuild here in its own transaction (directory.services, and the indexed
QuerySets in directory.models).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from directory.models import (
    OpeningSpan,
    SearchIndexCheck,
    Service,
    ServiceSearchEntry,
    WeeklyWindow,
)

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


# Every column of a ServiceSearchEntry, as index_rows writes it and the drift check reads it.
ENTRY_COLUMNS = (
    "service_id",
    "category_id",
    "latitude",
    "longitude",
    "facts_copied",
    "covers_any",
    *SEARCH_FACT_FIELDS,
)
# Source columns whose change moves a service's index rows (Service and Location).
SERVICE_INDEXED_FIELDS = frozenset({"location", *SEARCH_FACT_FIELDS})
LOCATION_INDEXED_FIELDS = frozenset({"latitude", "longitude"})


@dataclass(frozen=True)
class IndexSource:
    """What one service's index rows are derived from, read from the source tables."""

    service_id: int
    latitude: float
    longitude: float
    facts: dict[str, Any]
    category_ids: Sequence[int] = ()
    covers_any: bool = False
    spans: Sequence[tuple[int, time, time]] = field(default_factory=tuple)


def index_rows(source: IndexSource) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """The builder: a service's index rows (every ENTRY_COLUMNS value) and weekly windows.

    The only place that says what an index row holds. services_index_rebuild writes what
    it returns, generate_services writes it in bulk, check_search_index compares with it.
    """
    entries = [
        {
            "service_id": source.service_id,
            "category_id": category_id,
            "latitude": source.latitude,
            "longitude": source.longitude,
            "facts_copied": True,
            "covers_any": source.covers_any,
            **{name: source.facts[name] for name in SEARCH_FACT_FIELDS},
        }
        for category_id in sorted(set(source.category_ids))
    ]
    return entries, weekly_windows(source.spans)


def index_sources(ids: Sequence[int]) -> list[IndexSource]:
    """IndexSource for each existing service in ids, in a handful of queries."""
    places: dict[int, tuple[float, float]] = {}
    facts: dict[int, dict[str, Any]] = {}
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
    category_ids: dict[int, list[int]] = {}
    for service_id, category_id in Service.categories.through.objects.filter(
        service_id__in=ids
    ).values_list("service_id", "category_id"):
        category_ids.setdefault(service_id, []).append(category_id)
    spans: dict[int, list[tuple[int, time, time]]] = {}
    for service_id, weekday, opens, closes in OpeningSpan.objects.filter(
        service_id__in=ids
    ).values_list("service_id", "weekday", "opens", "closes"):
        spans.setdefault(service_id, []).append((weekday, opens, closes))
    return [
        IndexSource(
            service_id=service_id,
            latitude=latitude,
            longitude=longitude,
            facts=facts[service_id],
            category_ids=category_ids.get(service_id, []),
            covers_any=service_id in covering,
            spans=spans.get(service_id, []),
        )
        for service_id, (latitude, longitude) in sorted(places.items())
    ]


def service_index_rebuild(*, service: Service) -> None:
    """Rewrite one service's index rows from the source tables (services_index_rebuild)."""
    services_index_rebuild(service_ids=[service.pk])


INDEX_CHUNK = 2000


def services_index_rebuild(*, service_ids: Iterable[int] | None = None) -> int:
    """Rewrite the index rows of many services (all when service_ids is None) via index_rows.

    Returns how many services were indexed. Each chunk is written in one transaction (a
    savepoint inside the caller's), so the search never sees a service half-indexed.
    Dated exceptions are not in the index: the search reads them live.
    """
    if service_ids is None:
        ids = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(service_ids))
    for first in range(0, len(ids), INDEX_CHUNK):
        _index_chunk(ids[first : first + INDEX_CHUNK])
    return len(ids)


def _index_chunk(ids: list[int]) -> None:
    entries: list[ServiceSearchEntry] = []
    windows: list[WeeklyWindow] = []
    with transaction.atomic():
        for source in index_sources(ids):
            rows, service_windows = index_rows(source)
            entries += [ServiceSearchEntry(**row) for row in rows]
            windows += [
                WeeklyWindow(service_id=source.service_id, starts=starts, ends=ends)
                for starts, ends in service_windows
            ]
        ServiceSearchEntry.objects.filter(service_id__in=ids).delete()
        WeeklyWindow.objects.filter(service_id__in=ids).delete()
        ServiceSearchEntry.objects.bulk_create(entries, batch_size=2000)
        WeeklyWindow.objects.bulk_create(windows, batch_size=2000)


def location_index_rebuild(*, location_id: int) -> None:
    """After a location moves: re-index every service at it."""
    locations_index_rebuild(location_ids=[location_id])


def locations_index_rebuild(*, location_ids: Iterable[int]) -> int:
    return services_index_rebuild(
        service_ids=Service.objects.filter(location_id__in=list(location_ids)).values_list(
            "pk", flat=True
        )
    )


# --- the drift check -------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexDifference:
    """One way an index row differs from what the source tables say it should be."""

    service_id: int
    row: str  # "category 12" or "weekly window"
    column: str  # a column name, or "row" for a missing or extra row
    index_value: Any
    source_value: Any

    def __str__(self) -> str:
        return (
            f"service {self.service_id} {self.row} {self.column}: "
            f"index {self.index_value!r}, source {self.source_value!r}"
        )


@dataclass
class IndexCheckResult:
    checked_at: datetime
    rows_checked: int = 0
    differences: list[IndexDifference] = field(default_factory=list)


CHECK_REPORT_LINES = 200


def search_index_check(*, chunk: int = INDEX_CHUNK) -> IndexCheckResult:
    """Compare every index row with what index_rows builds from the source tables now.

    Reports missing, extra and differing rows (entries and weekly windows) and stores the
    outcome as a SearchIndexCheck row for the operators' admin. Reads only; repairs
    nothing (services_index_rebuild does).
    """
    result = IndexCheckResult(checked_at=timezone.now())
    ids = set(Service.objects.values_list("pk", flat=True))
    # Index rows whose service is gone cannot exist (cascade), so the services' ids cover all.
    ordered = sorted(ids)
    for first in range(0, len(ordered), chunk):
        _check_chunk(ordered[first : first + chunk], result)
    lines = [str(d) for d in result.differences[:CHECK_REPORT_LINES]]
    if len(result.differences) > CHECK_REPORT_LINES:
        lines.append(f"... and {len(result.differences) - CHECK_REPORT_LINES} more")
    SearchIndexCheck.objects.create(
        checked_at=result.checked_at,
        rows_checked=result.rows_checked,
        differences=len(result.differences),
        report="\n".join(lines),
    )
    return result


def _check_chunk(ids: list[int], result: IndexCheckResult) -> None:
    expected_entries: dict[tuple[int, int], dict[str, Any]] = {}
    expected_windows: dict[int, set[tuple[int, int]]] = {}
    for source in index_sources(ids):
        rows, windows = index_rows(source)
        for row in rows:
            expected_entries[(row["service_id"], row["category_id"])] = row
        expected_windows[source.service_id] = set(windows)
    actual_entries = {
        (row["service_id"], row["category_id"]): row
        for row in ServiceSearchEntry.objects.filter(service_id__in=ids).values(*ENTRY_COLUMNS)
    }
    actual_windows: dict[int, set[tuple[int, int]]] = {}
    for service_id, starts, ends in WeeklyWindow.objects.filter(service_id__in=ids).values_list(
        "service_id", "starts", "ends"
    ):
        actual_windows.setdefault(service_id, set()).add((starts, ends))

    found = result.differences
    for key in sorted(expected_entries.keys() | actual_entries.keys()):
        result.rows_checked += 1
        service_id, category_id = key
        row = f"category {category_id}"
        want, have = expected_entries.get(key), actual_entries.get(key)
        if have is None:
            found.append(IndexDifference(service_id, row, "row", "missing", "present"))
        elif want is None:
            found.append(IndexDifference(service_id, row, "row", "present", "missing"))
        else:
            found += [
                IndexDifference(service_id, row, name, have[name], want[name])
                for name in ENTRY_COLUMNS
                if have[name] != want[name]
            ]
    for service_id in sorted(expected_windows.keys() | actual_windows.keys()):
        want_windows = expected_windows.get(service_id, set())
        have_windows = actual_windows.get(service_id, set())
        result.rows_checked += len(want_windows | have_windows)
        for window in sorted(want_windows - have_windows):
            found.append(IndexDifference(service_id, "weekly window", "row", "missing", window))
        for window in sorted(have_windows - want_windows):
            found.append(IndexDifference(service_id, "weekly window", "row", window, "missing"))
