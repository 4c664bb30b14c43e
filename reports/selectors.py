"""Planner reports: what flows where, as aggregates and a de-identified extract.

The one selector module behind the reports page, the reports API and export_referrals.
Grouping runs in the database (Trunc in Europe/London, Count with FILTER); percentiles run
in SQL on PostgreSQL (percentile_cont) and in Python elsewhere with the same linear
interpolation, so both give the same figures.

Nothing here reads a patient identifier: the queries name their columns (values /
values_list), and those columns are service, place, category, status, times and age band.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Concat, TruncDate, TruncDay, TruncMonth, TruncWeek
from django.utils.timezone import localdate

from config.errors import DomainError
from directory.models import ICS, Borough, Category, SearchLog, Service
from directory.permissions import reads_exact_small_counts
from referrals.models import AgeBand, DeclineReason, Referral, Status

LONDON = ZoneInfo("Europe/London")

# --- filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers. Dates are London calendar days; date_to is inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    ics: str = ""
    borough: Borough | None = None
    category: Category | None = None
    service: Service | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters, for links to charts and exports."""
        query = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "ics": self.ics,
            "borough": self.borough.slug if self.borough else "",
            "category": self.category.code if self.category else "",
            "service": str(self.service.pk) if self.service else "",
        }
        return {key: value for key, value in query.items() if value}


# Report dates lie within these years: a date near 1 or 9999 overflows once turned into a
# London midnight or moved a day on, and no referral is older than the first.
FIRST_REPORT_DATE = date(2000, 1, 1)
LAST_REPORT_DATE = date(2100, 12, 31)
# The longest span (days) a planner may ask for at once, per report and grouping: a day per
# row is bounded to a year, a week to three, and everything else to ten; the row-level
# extract to a year (it is one row per referral). Operators' export_referrals is uncapped.
EXTRACT = "extract"
GAPS = "gaps"
_YEAR = 366
MAX_SPAN_DAYS = {"day": _YEAR, "week": 3 * _YEAR, EXTRACT: _YEAR}
DEFAULT_MAX_SPAN_DAYS = 10 * _YEAR


def _parse_date(raw: str) -> date:
    value = date.fromisoformat(raw)
    if not FIRST_REPORT_DATE <= value <= LAST_REPORT_DATE:
        raise ValueError("out of range")
    return value


def _service_id(raw: str) -> int | None:
    # ASCII digits only ("²".isdigit() is true) and within a bigint, or no such service.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


def report_filters_from(params: Mapping[str, str]) -> ReportFilters:
    """Read filters from query parameters; any bad value is refused naming its field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, attr in (("from", "date_from"), ("to", "date_to")):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[attr] = _parse_date(raw)
            except ValueError:
                errors[name] = [
                    f"Enter a date as YYYY-MM-DD, between {FIRST_REPORT_DATE.isoformat()} "
                    f"and {LAST_REPORT_DATE.isoformat()}."
                ]
    if (
        values.get("date_from")
        and values.get("date_to")
        and values["date_from"] > values["date_to"]
    ):
        errors["to"] = ["The end date must not be before the start date."]

    ics = (params.get("ics") or "").strip().upper()
    if ics and ics not in ICS.values:
        errors["ics"] = [f"Unknown ICS; use one of {', '.join(ICS.values)}."]
    values["ics"] = ics if "ics" not in errors else ""

    raw = (params.get("borough") or "").strip()
    if raw:
        values["borough"] = Borough.objects.filter(Q(slug=raw) | Q(gss_code=raw.upper())).first()
        if values["borough"] is None:
            errors["borough"] = ["Unknown borough; use its slug or GSS code."]
    raw = (params.get("category") or "").strip()
    if raw:
        values["category"] = Category.objects.filter(code=raw).first()
        if values["category"] is None:
            errors["category"] = ["Unknown category code."]
    raw = (params.get("service") or "").strip()
    if raw:
        service_id = _service_id(raw)
        values["service"] = Service.objects.filter(pk=service_id).first() if service_id else None
        if values["service"] is None:
            errors["service"] = ["Unknown service id."]

    if errors:
        field_name = next(iter(errors))
        raise DomainError(f"{field_name}: {errors[field_name][0]}", code="invalid", fields=errors)
    return ReportFilters(**values)


def report_span_check(
    filters: ReportFilters, *, report: str, today: date | None = None
) -> ReportFilters:
    """Refuse a span longer than MAX_SPAN_DAYS allows for this report (a grouping, or
    EXTRACT or GAPS); 400 naming `from`. The span runs from `from` to `to` (default
    today). Without `from`, the extract covers its longest span up to `to`; the aggregates
    cover all the data (bounded by how long referrals are kept)."""
    today = today or localdate()
    limit = MAX_SPAN_DAYS.get(report, DEFAULT_MAX_SPAN_DAYS)
    end = filters.date_to or today
    if filters.date_from is None:
        if report != EXTRACT:
            return filters
        return replace(filters, date_from=end - timedelta(days=limit - 1))
    if (end - filters.date_from).days + 1 > limit:
        message = f"Ask for at most {limit} days at once here; narrow from and to."
        raise DomainError(f"from: {message}", code="span_too_long", fields={"from": [message]})
    return filters


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def _referrals(filters: ReportFilters) -> QuerySet:
    qs = Referral.objects.order_by()
    if filters.date_from:
        qs = qs.filter(created_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
    if filters.ics:
        qs = qs.filter(service__location__borough__ics=filters.ics)
    if filters.borough:
        qs = qs.filter(service__location__borough=filters.borough)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.service:
        qs = qs.filter(service=filters.service)
    return qs


# --- durations and percentiles -------------------------------------------------------


class MinutesBetween(Func):
    """Minutes from the second datetime to the first, as a float, on either database."""

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        # julianday() reads the ISO text Django stores in SQLite; days -> minutes.
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 1440.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0)::float8",  # not numeric
            arg_joiner=" - ",
            **extra,
        )


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as percentile_cont does."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


_EVER_ACCEPTED = Q(status__in=[Status.ACCEPTED, Status.COMPLETED]) | Q(
    status=Status.CANCELLED, answered_at__isnull=False
)
_OPEN = Q(status__in=[Status.SENT, Status.ACKNOWLEDGED])

# (name, duration expression, which referrals it applies to)
_DURATIONS = (
    (
        "acknowledge",
        MinutesBetween("acknowledged_at", "created_at"),
        Q(acknowledged_at__isnull=False),
    ),
    (
        "accept",
        MinutesBetween("answered_at", "created_at"),
        _EVER_ACCEPTED & Q(answered_at__isnull=False),
    ),
)
DURATION_COLUMNS = [
    f"{name}_{stat}_minutes" for name, _, _ in _DURATIONS for stat in ("median", "p90")
]

_COUNTS = {
    "referrals": Count("pk"),
    "open": Count("pk", filter=_OPEN),
    "accepted": Count("pk", filter=Q(status=Status.ACCEPTED)),
    "completed": Count("pk", filter=Q(status=Status.COMPLETED)),
    "declined": Count("pk", filter=Q(status=Status.DECLINED)),
    "cancelled": Count("pk", filter=Q(status=Status.CANCELLED)),
    "expired": Count("pk", filter=Q(status=Status.EXPIRED)),
    "ever_accepted": Count("pk", filter=_EVER_ACCEPTED),
}
COUNT_COLUMNS = [name for name in _COUNTS if name != "ever_accepted"]


def _percentile_annotations() -> dict[str, Aggregate]:
    return {
        f"{name}_{stat}_minutes": PercentileCont(expression, fraction, filter=applies)
        for name, expression, applies in _DURATIONS
        for stat, fraction in (("median", 0.5), ("p90", 0.9))
    }


def _percentiles_in_python(qs: QuerySet) -> dict[Any, dict[str, float | None]]:
    """Per key: median and p90 of each duration, over a values_list of the filtered set."""
    found: dict[Any, dict[str, float | None]] = defaultdict(dict)
    for name, expression, applies in _DURATIONS:
        by_key: dict[Any, list[float]] = defaultdict(list)
        for key, minutes in qs.filter(applies).values_list("key", expression).iterator():
            by_key[key].append(minutes)
        for key, values in by_key.items():
            values.sort()
            found[key][f"{name}_median_minutes"] = percentile(values, 0.5)
            found[key][f"{name}_p90_minutes"] = percentile(values, 0.9)
    return found


# --- referral aggregates -------------------------------------------------------------


def _outcome_expression():
    return Case(
        When(_OPEN, then=Value("open")),
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
    qs = _referrals(filters).annotate(key=grouping.key)
    if grouping.only is not None:
        qs = qs.filter(grouping.only)
    names = ["key"]
    if grouping.label is not None:
        qs = qs.annotate(label=grouping.label)
        names.append("label")
    aggregates = dict(_COUNTS)
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        aggregates.update(_percentile_annotations())
    rows = list(qs.values(*names).annotate(**aggregates).order_by())
    durations = {} if on_postgres else _percentiles_in_python(qs)

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
    qs = _referrals(filters).annotate(key=Value("all", output_field=CharField()))
    aggregates = dict(_COUNTS)
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        aggregates.update(_percentile_annotations())
    row = qs.aggregate(**aggregates)
    row.update(key="all", label="All referrals")
    durations = {} if on_postgres else _percentiles_in_python(qs).get("all", {})
    return _finish(row, durations)


# --- gaps ----------------------------------------------------------------------------

ANY_CATEGORY = "any"


def gap_report(*, filters: ReportFilters) -> list[dict[str, Any]]:
    """Searches, and those that found no eligible open service, by borough and category.

    A gap is a search with no results or one that fell back to the emergency department.
    A search for several categories counts once under each. Grouped in the database by
    (borough, category list); the few distinct lists are split in Python, which works the
    same on SQLite and PostgreSQL.
    """
    qs = SearchLog.objects.order_by()
    if filters.date_from:
        qs = qs.filter(created_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
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


# --- de-identified row-level extract -------------------------------------------------

EXTRACT_COLUMNS = [
    "pseudonym",
    "iso_week",
    "ics",
    "borough",
    "category",
    "service",
    "organisation",
    "outcome",
    "decline_reason",
    "minutes_to_acknowledge",
    "minutes_to_answer",
    "age_band",
]


class UuidHex(Func):
    """A UUID column as its 32 hex digits, the same text on PostgreSQL and SQLite."""

    arity = 1
    output_field = CharField()
    template = "%(expressions)s"  # SQLite stores UUIDs as 32 hex characters already

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="REPLACE(%(expressions)s::text, '-', '')", **extra
        )


def referral_pseudonym_factory():
    """A function from a referral's id (32 hex digits) to a stable pseudonym.

    HMAC-SHA256 keyed with SECRET_KEY, truncated to 16 hex characters (64 bits): stable
    across exports (a planner can join two extracts) but not reversible without the key.
    """
    base = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)

    def pseudonym(referral_hex: str) -> str:
        mac = base.copy()
        mac.update(referral_hex.encode())
        return mac.hexdigest()[:16]

    return pseudonym


def referral_extract_count(*, filters: ReportFilters) -> int:
    return _referrals(filters).count()


def referral_extract_rows(*, filters: ReportFilters, chunk_size: int = 10000) -> Iterator[tuple]:
    """One tuple per referral (EXTRACT_COLUMNS), streamed: constant memory at any size.

    values_list over the referral's own columns, iterated in chunks (a server-side cursor
    on PostgreSQL); service, organisation and place come from a small lookup. The London
    day and the minutes are computed in the database: parsing three timestamps per row in
    Python would cost more than everything else together.
    """
    services = {
        pk: (safe_cell(name), safe_cell(organisation), borough, ics)
        for pk, name, organisation, borough, ics in Service.objects.values_list(
            "pk",
            "name",
            "organisation__name",
            "location__borough__name",
            "location__borough__ics",
        )
    }
    categories = dict(Category.objects.values_list("pk", "code"))
    pseudonym = referral_pseudonym_factory()
    open_statuses = {Status.SENT.value, Status.ACKNOWLEDGED.value}
    weeks: dict[date, str] = {}
    qs = (
        _referrals(filters)
        .order_by("created_at")
        .values_list(
            UuidHex("pk"),
            TruncDate("created_at", tzinfo=LONDON),
            "service_id",
            "category_id",
            "status",
            "decline_reason",
            MinutesBetween("acknowledged_at", "created_at"),
            MinutesBetween("answered_at", "created_at"),
            "age_band",
        )
    )
    for (
        hex_id,
        day,
        service_id,
        category_id,
        status,
        reason,
        to_ack,
        to_answer,
        band,
    ) in qs.iterator(chunk_size=chunk_size):
        service_name, organisation, borough, ics = services[service_id]
        week = weeks.get(day)
        if week is None:
            year, number, _ = day.isocalendar()
            week = weeks[day] = f"{year}-W{number:02d}"
        yield (
            pseudonym(hex_id),
            week,
            ics,
            borough,
            categories[category_id],
            service_name,
            organisation,
            "open" if status in open_statuses else status,
            reason,
            None if to_ack is None else round(to_ack, 1),
            None if to_answer is None else round(to_answer, 1),
            band,
        )


# --- file formats --------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a partner-typed name) is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Lines:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def write(self, text: str) -> None:
        self.buffer.write(text)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def csv_chunks(
    header: list[str], rows: Iterable[Iterable[Any]], batch: int = 2000
) -> Iterator[str]:
    """CSV text in chunks of `batch` rows: streamed, never the whole file in memory.

    Rows must already be safe (safe_cell on free-typed text): the extract's million rows
    would pay for a check of every cell otherwise.
    """
    out = _Lines()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    rows = iter(rows)
    while True:
        before = out.buffer.tell()
        writer.writerows(islice(rows, batch))
        if out.buffer.tell() == before:
            break
        yield out.take()
    yield out.take()


def write_xlsx(target: str | BinaryIO, sheets: Iterable[tuple[str, list[str], Iterable]]) -> None:
    """Write (title, header, rows) sheets with openpyxl's write-only mode (rows stream to disk)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    workbook.save(target)


def table_rows(rows: list[dict[str, Any]], columns: list[str]) -> Iterator[list[Any]]:
    """An aggregate table's rows as lists, labels (which may be partner-typed) made safe."""
    for row in rows:
        yield [safe_cell(row.get(column)) for column in columns]


# --- small-cell suppression ---------------------------------------------------------

SUPPRESSED = "<5"
GAP_COUNT_COLUMNS = ["searches", "gaps"]


def _small(value: Any, threshold: int) -> bool:
    return isinstance(value, int) and 0 < value < threshold


def suppress_small_cells(
    rows: Iterable[dict[str, Any]],
    *,
    counts: list[str],
    base: str,
    derived: list[str],
    threshold: int | None = None,
) -> list[dict[str, Any]]:
    """Rows fit to leave the system: counts from 1 to threshold-1 become "<5"; a rate or a
    time drawn from fewer than threshold referrals (or searches) becomes None.

    A count of one or two in a borough, week and category can point at a person; zero
    cannot and stays. `base` names the column the derived figures are drawn from.
    """
    threshold = settings.REPORT_SMALL_CELL_THRESHOLD if threshold is None else threshold
    label = SUPPRESSED if threshold == 5 else f"<{threshold}"
    out = []
    for row in rows:
        row = dict(row)
        if _small(row.get(base), threshold):
            for column in derived:
                row[column] = None
        for column in counts:
            if _small(row.get(column), threshold):
                row[column] = label
        out.append(row)
    return out


def small_cell(value: Any, threshold: int | None = None) -> Any:
    """One count as it may be shown: "<5" from 1 to threshold-1."""
    return suppress_small_cells(
        [{"n": value}], counts=["n"], base="", derived=[], threshold=threshold
    )[0]["n"]


def referral_rows_suppressed(
    rows: Iterable[dict[str, Any]], *, threshold: int | None = None
) -> list[dict[str, Any]]:
    return suppress_small_cells(
        rows,
        counts=COUNT_COLUMNS,
        base="referrals",
        derived=["acceptance_rate", *DURATION_COLUMNS],
        threshold=threshold,
    )


def gap_rows_suppressed(
    rows: Iterable[dict[str, Any]], *, threshold: int | None = None
) -> list[dict[str, Any]]:
    return suppress_small_cells(
        rows,
        counts=GAP_COUNT_COLUMNS,
        base="searches",
        derived=["gap_rate"],
        threshold=threshold,
    )


def small_cell_threshold_for(user) -> int:
    """The threshold this reader's reports are suppressed at (1: nothing is suppressed)."""
    return 1 if reads_exact_small_counts(user) else settings.REPORT_SMALL_CELL_THRESHOLD


def referral_report_columns(group_by: str) -> list[str]:
    return ["key", "label", *COUNT_COLUMNS, "acceptance_rate", *DURATION_COLUMNS]
