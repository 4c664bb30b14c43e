"""What a report covers: filters read from query parameters, span limits, and the
referrals they match. Dates are London calendar days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils.timezone import localdate

from config.errors import DomainError
from directory.models import ICS, Borough, Category, Service
from referrals.models import Referral

LONDON = ZoneInfo("Europe/London")


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


def local_midnight(day: date) -> datetime:
    """The first instant of a London calendar day, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=LONDON)


def created_within_dates(qs: QuerySet, filters: ReportFilters) -> QuerySet:
    """Rows created within the report's London dates, both days whole."""
    if filters.date_from:
        qs = qs.filter(created_at__gte=local_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=local_midnight(filters.date_to + timedelta(days=1)))
    return qs


def referrals_matching(filters: ReportFilters) -> QuerySet:
    """The referrals a report covers, unordered: created within the dates, in the place."""
    qs = created_within_dates(Referral.objects.order_by(), filters)
    if filters.ics:
        qs = qs.filter(service__location__borough__ics=filters.ics)
    if filters.borough:
        qs = qs.filter(service__location__borough=filters.borough)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.service:
        qs = qs.filter(service=filters.service)
    return qs
