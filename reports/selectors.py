"""Planner reports as aggregates: referrals by period, place, category or outcome, and
searches that found no service (gaps).

The one selector module behind the reports page, the reports API and the charts.
Grouping runs in the database (Trunc in Europe/London, Count with FILTER).

Nothing here reads a patient identifier: the queries name their columns (values /
values_list), and those columns are service, place, category, status, times and age band.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.db.models.functions import Concat, TruncDay, TruncMonth, TruncWeek

from config.errors import DomainError
from directory.models import ICS, Category, SearchLog
from referrals.models import AgeBand, DeclineReason, Status
from reports.filters import (
    LONDON,
    ReportFilters,
    created_within_dates,
    referrals_matching,
)
from reports.measures import (
    COUNT_COLUMNS,
    COUNTS,
    DURATION_COLUMNS,
    OPEN,
    percentile_annotations,
    percentiles_in_python,
)


def _outcome_expression():
    return Case(
        When(OPEN, then=Value("open")),
        When(
            status=Status.DECLINED,
            then=Concat(Value("declined:"), F("decline_reason"), output_field=CharField()),
        ),
        default=F("status"),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class _Grouping:
    key: Any
    label: Any = None  # an expression naming the group; None: labelled in Python
    period: str = ""
    only: Q | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _groupings() -> dict[str, _Grouping]:
    reasons = {f"declined:{value}": f"Declined: {label}" for value, label in DeclineReason.choices}
    return {
        "day": _Grouping(TruncDay("created_at", tzinfo=LONDON), period="day"),
        "week": _Grouping(TruncWeek("created_at", tzinfo=LONDON), period="week"),
        "month": _Grouping(TruncMonth("created_at", tzinfo=LONDON), period="month"),
        "ics": _Grouping(F("service__location__borough__ics"), labels=dict(ICS.choices)),
        "borough": _Grouping(
            F("service__location__borough__gss_code"), F("service__location__borough__name")
        ),
        "patient_borough": _Grouping(F("patient_borough__gss_code"), F("patient_borough__name")),
        "category": _Grouping(F("category__code"), F("category__name")),
        "service": _Grouping(F("service_id"), F("service__name")),
        "organisation": _Grouping(F("service__organisation_id"), F("service__organisation__name")),
        "outcome": _Grouping(
            _outcome_expression(),
            labels={
                "open": "Still open",
                "accepted": "Accepted",
                "completed": "Completed",
                **reasons,
                "declined:": "Declined: no reason given",
                "cancelled": "Cancelled",
                "expired": "Expired",
            },
        ),
        "decline_reason": _Grouping(
            F("decline_reason"),
            only=Q(status=Status.DECLINED),
            labels={**dict(DeclineReason.choices), "": "No reason given"},
        ),
        "age_band": _Grouping(F("age_band"), labels=dict(AgeBand.choices)),
    }


GROUP_BY_CHOICES = tuple(_groupings())
OUTCOME_ORDER = ["open", "accepted", "completed", "declined", "cancelled", "expired"]


def _period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next_period(day: date, period: str) -> date:
    if period == "week":
        return day + timedelta(days=7)
    if period == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def period_label(day: date, period: str) -> str:
    if period == "week":
        return f"w/c {day.day} {day:%b %Y}"
    if period == "month":
        return f"{day:%b %Y}"
    return f"{day.day} {day:%b %Y}"


def _empty_row(key: Any, label: str) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "label": label}
    row.update(dict.fromkeys(COUNT_COLUMNS, 0))
    row["acceptance_rate"] = None
    row.update(dict.fromkeys(DURATION_COLUMNS))
    return row


def _finish(row: dict[str, Any], durations: Mapping[str, float | None]) -> dict[str, Any]:
    accepted = row.pop("ever_accepted")
    decided = accepted + row["declined"] + row["expired"]
    row["acceptance_rate"] = round(accepted / decided, 4) if decided else None
    for column in DURATION_COLUMNS:
        value = durations.get(column, row.get(column))
        row[column] = round(value, 1) if value is not None else None
    return row


def referral_report(*, filters: ReportFilters, group_by: str = "week") -> list[dict[str, Any]]:
    """Referral counts by outcome, acceptance rate and response times, one row per group.

    Acceptance rate = referrals ever accepted (accepted, completed, or cancelled after an
    acceptance) / those the partner decided or let expire (ever accepted + declined +
    expired); cancelled-before-answer and still-open referrals are left out of it. Periods
    are London calendar periods and include empty ones between the filter's dates.
    """
    groupings = _groupings()
    if group_by not in groupings:
        raise DomainError(
            f"group_by: use one of {', '.join(groupings)}.",
            code="invalid",
            fields={"group_by": [f"Use one of {', '.join(groupings)}."]},
        )
    grouping = groupings[group_by]
    qs = referrals_matching(filters).annotate(key=grouping.key)
    if grouping.only is not None:
        qs = qs.filter(grouping.only)
    names = ["key"]
    if grouping.label is not None:
        qs = qs.annotate(label=grouping.label)
        names.append("label")
    aggregates = dict(COUNTS)
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        aggregates.update(percentile_annotations())
    rows = list(qs.values(*names).annotate(**aggregates).order_by())
    durations = {} if on_postgres else percentiles_in_python(qs)

    finished = []
    for row in rows:
        key = row["key"]
        row = _finish(row, durations.get(key, {}))
        if grouping.period:
            row["key"] = timezone_date(key)
            row["label"] = period_label(row["key"], grouping.period)
        elif "label" not in row or row["label"] is None:
            row["label"] = grouping.labels.get(key, key if key not in (None, "") else "Not known")
        finished.append(row)

    if grouping.period:
        return _fill_periods(finished, filters, grouping.period)
    if group_by == "outcome":
        order = {name: index for index, name in enumerate(grouping.labels)}
        return sorted(finished, key=lambda r: order.get(r["key"], len(order)))
    return sorted(finished, key=lambda r: (str(r["label"]).lower(), str(r["key"])))


def timezone_date(value: datetime) -> date:
    """The London calendar date a truncated period starts on."""
    return value.astimezone(LONDON).date()


def _fill_periods(rows: list[dict], filters: ReportFilters, period: str) -> list[dict]:
    """Every period from the first to the last, with zero rows where nothing happened."""
    by_start = {row["key"]: row for row in rows}
    starts = list(by_start)
    first = filters.date_from or (min(starts) if starts else None)
    last = filters.date_to or (max(starts) if starts else None)
    if first is None or last is None:
        return []
    filled = []
    day = _period_start(first, period)
    while day <= last:
        filled.append(by_start.get(day) or _empty_row(day, period_label(day, period)))
        day = _next_period(day, period)
    return filled


def referral_totals(*, filters: ReportFilters) -> dict[str, Any]:
    """The headline figures for the whole filtered set (one row, key "all")."""
    qs = referrals_matching(filters).annotate(key=Value("all", output_field=CharField()))
    aggregates = dict(COUNTS)
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        aggregates.update(percentile_annotations())
    row = qs.aggregate(**aggregates)
    row.update(key="all", label="All referrals")
    durations = {} if on_postgres else percentiles_in_python(qs).get("all", {})
    return _finish(row, durations)


def referral_report_columns(group_by: str) -> list[str]:
    return ["key", "label", *COUNT_COLUMNS, "acceptance_rate", *DURATION_COLUMNS]


# --- gaps ----------------------------------------------------------------------------

ANY_CATEGORY = "any"


def gap_report(*, filters: ReportFilters) -> list[dict[str, Any]]:
    """Searches, and those that found no eligible open service, by borough and category.

    A gap is a search with no results or one that fell back to the emergency department.
    A search for several categories counts once under each. Grouped in the database by
    (borough, category list); the few distinct lists are split in Python, which works the
    same on SQLite and PostgreSQL.
    """
    qs = created_within_dates(SearchLog.objects.order_by(), filters)
    if filters.ics:
        qs = qs.filter(borough__ics=filters.ics)
    if filters.borough:
        qs = qs.filter(borough=filters.borough)
    groups = qs.values("borough__gss_code", "borough__name", "categories").annotate(
        searches=Count("pk"),
        gaps=Count("pk", filter=Q(result_count=0) | Q(fallback_shown=True)),
    )
    names = dict(Category.objects.values_list("code", "name"))
    names[ANY_CATEGORY] = "Any category"
    totals: dict[tuple, dict[str, Any]] = {}
    for group in groups:
        codes = sorted(set(group["categories"] or [])) or [ANY_CATEGORY]
        for code in codes:
            if filters.category and code != filters.category.code:
                continue
            key = (group["borough__gss_code"] or "", code)
            row = totals.setdefault(
                key,
                {
                    "borough": key[0],
                    "borough_name": group["borough__name"] or "Not known",
                    "category": code,
                    "category_name": names.get(code, code),
                    "searches": 0,
                    "gaps": 0,
                },
            )
            row["searches"] += group["searches"]
            row["gaps"] += group["gaps"]
    rows = list(totals.values())
    for row in rows:
        row["gap_rate"] = round(row["gaps"] / row["searches"], 4) if row["searches"] else None
    return sorted(rows, key=lambda r: (-r["gaps"], r["borough_name"], r["category_name"]))


GAP_COLUMNS = [
    "borough",
    "borough_name",
    "category",
    "category_name",
    "searches",
    "gaps",
    "gap_rate",
]
