"""The search's answer for each service found: everything a crew needs (H8).

Times stay datetimes (London time for the hours) until the answer is serialised: the API
through summary_json (SearchResult.as_dict, service_summary), the pages by formatting them.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import F, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler

from config.compiled import fill, insert, insert_with, parameter_template, sentinel_slots
from directory import reference
from directory.hours import LONDON, DayHours, TimeFit, intervals_for_day, time_fit_in
from directory.models import OpeningException, OpeningSpan, Service
from directory.search.rank import Ranked
from directory.selectors import capacity_live, exceptions_window
from directory.timing import STAY

_SUMMARY_FIELDS = (
    "name",
    "public_name",
    "organisation_id",
    "phone",
    "professional_phone",
    "referral_instructions",
    "accepts_referrals_when_closed",
    "min_age",
    "max_age",
    "sexes",
    "inclusion_criteria",
    "exclusion_criteria",
    "bank_holiday_hours",
    "capacity_status",
    "capacity_slots",
    "capacity_updated_at",
    "capacity_expires_at",
)


# What capacity_live reads of a row.
_CAPACITY_FIELDS = (
    "capacity_status",
    "capacity_slots",
    "capacity_updated_at",
    "capacity_expires_at",
)

_summary_base: QuerySet | None = None


def _listed(table: str, value_sql: str, condition: str = "") -> str:
    """A correlated subquery joining one column of the service's rows in `table` into a
    comma-separated text (NULL when it has none): so one query brings a result's
    categories, boroughs covered, hours and exceptions with it. PostgreSQL and SQLite
    differ only in the aggregate's name. Quoted identifiers only; values are parameters."""
    quote = connection.ops.quote_name
    joined = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    outer = f"{quote(Service._meta.db_table)}.{quote('id')}"
    return (
        f"(SELECT {joined}({value_sql}, ',') FROM {quote(table)} x"  # noqa: S608
        f" WHERE x.{quote('service_id')} = {outer}{condition})"
    )


def _text(column: str) -> str:
    return f"CAST(x.{connection.ops.quote_name(column)} AS TEXT)"


def _summary_rows() -> QuerySet:
    """The services' own columns as rows, with their categories, boroughs covered and
    weekly hours as joined text; resolved once per process and cloned per search, as
    resolving these twenty-odd names costs more than the query itself."""
    global _summary_base
    if _summary_base is None:
        spans = f"{_text('weekday')} || ' ' || {_text('opens')} || ' ' || {_text('closes')}"
        _summary_base = Service.objects.values(
            "id",
            *_SUMMARY_FIELDS,
            organisation_name=F("organisation__name"),
            address=F("location__address"),
            postcode=F("location__postcode"),
            lat=F("location__latitude"),
            lon=F("location__longitude"),
            borough_id=F("location__borough_id"),
            category_ids=RawSQL(  # noqa: S611
                _listed(Service.categories.through._meta.db_table, _text("category_id")), []
            ),
            covered_ids=RawSQL(  # noqa: S611
                _listed(Service.boroughs_covered.through._meta.db_table, _text("borough_id")),
                [],
            ),
            spans=RawSQL(_listed(OpeningSpan._meta.db_table, spans), []),  # noqa: S611
        ).order_by()
    return _summary_base


def _exceptions_sql() -> str:
    """The service's exceptions on the dates of two parameters, as joined text
    (date closed opens closes, with '-' for a missing time)."""
    quote = connection.ops.quote_name
    closed = f"CASE WHEN x.{quote('closed')} THEN '1' ELSE '0' END"
    times = " || ' ' || ".join(f"COALESCE({_text(name)}, '-')" for name in ("opens", "closes"))
    return _listed(
        OpeningException._meta.db_table,
        f"{_text('date')} || ' ' || {closed} || ' ' || {times}",
        f" AND x.{quote('date')} BETWEEN %s AND %s",
    )


def _ids(joined: str | None) -> list[str]:
    return joined.split(",") if joined else []


# Most services share a few weekly patterns (24/7, office hours...): each joined text is
# parsed once per process, not once per result.
@lru_cache(maxsize=2048)
def _spans(joined: str | None) -> tuple[tuple[int, time, time], ...]:
    spans = []
    for item in _ids(joined):
        weekday, opens, closes = item.split(" ")
        spans.append((int(weekday), time.fromisoformat(opens), time.fromisoformat(closes)))
    return tuple(sorted(spans))


# A pattern's open intervals are the same all day (hours.intervals_for_day): kept per
# process, so a search works out only its moment against them (usually all 20 results'
# patterns are here already). A pure function of the key: nothing to forget on a change.
@lru_cache(maxsize=1024)
def _intervals(
    spans: tuple[tuple[int, time, time], ...],
    exceptions: str | None,
    bank_holiday_hours: str,
    day: date,
) -> tuple[list[tuple[datetime, datetime]], datetime]:
    return intervals_for_day(spans, _exceptions(exceptions), bank_holiday_hours, day)


def _exceptions(joined: str | None) -> dict[date, DayHours]:
    exceptions = {}
    for item in _ids(joined):
        day, closed, opens, closes = item.split(" ")
        exceptions[date.fromisoformat(day)] = DayHours(
            closed == "1",
            None if opens == "-" else time.fromisoformat(opens),
            None if closes == "-" else time.fromisoformat(closes),
        )
    return exceptions


def _page_queryset(ids: list[int], window: tuple[date, date]) -> QuerySet:
    return (
        _summary_rows()
        .filter(pk__in=ids)
        .annotate(
            exceptions=RawSQL(_exceptions_sql(), window)  # noqa: S611
        )
    )


class _Page(NamedTuple):
    """The page query of one size, compiled once (as directory/search/statement.py does
    the main statement): its compiler and the columns' converters, SQL and parameters."""

    compiler: SQLCompiler
    converters: dict
    names: list[str]
    sql: str
    template: tuple


_pages: dict[tuple, _Page | None] = {}
_SENTINEL_ID = 987_101
_SENTINEL_WINDOW = (date(2003, 4, 4), date(2003, 4, 20))


def _page(size: int) -> _Page | None:
    key = (connection.vendor, size)
    if key not in _pages:
        values: dict[str, Any] = {f"id{n}": _SENTINEL_ID + n for n in range(size)}
        values["window_from"], values["window_to"] = _SENTINEL_WINDOW
        query = _page_queryset(list(values.values())[:size], _SENTINEL_WINDOW).query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        template, found = parameter_template(list(params), sentinel_slots(values))
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        # As results_iter finds them, once rather than on every search.
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        _pages[key] = (
            _Page(compiler, converters, names, sql, template) if found == set(values) else None
        )
    return _pages[key]


def _page_rows(ids: list[int], at: datetime, log: Model | None = None) -> list[dict[str, Any]]:
    """The page's services as rows (_summary_rows), by the compiled query of its size;
    with log, a row to INSERT in the same statement where it can (else on its own)."""
    ids = list(dict.fromkeys(ids))
    window = exceptions_window(at)
    page = _page(len(ids))
    if page is None:
        if log is not None:
            insert([log])
        return list(_page_queryset(ids, window))
    values: dict[str, Any] = {f"id{n}": pk for n, pk in enumerate(ids)}
    values["window_from"], values["window_to"] = window
    statement = page.sql, fill(page.template, values)
    if log is not None:
        together = insert_with([log], *statement, connection)
        if together is None:
            insert([log])
        else:
            statement = together
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        found = cursor.fetchall()
    if page.converters:
        found = page.compiler.apply_converters(found, page.converters)
    return [dict(zip(page.names, row, strict=True)) for row in found]


def describe(
    ranked: list[Ranked], at: datetime, within: int = 0, *, log: Model | None = None
) -> list[dict[str, Any]]:
    """The full answer for each ranked service, in that order; hours read exactly,
    with when each opens within the urgency window of `within` minutes.

    One query: plain rows rather than model instances and prefetches, each carrying its
    categories, boroughs covered, hours and exceptions as joined text (this runs on every
    search). log: a row written by the same statement (the search's log row), so that it
    costs no round trip of its own."""
    if not ranked:
        if log is not None:
            insert([log])
        return []
    rows = {row["id"]: row for row in _page_rows([row.service_id for row in ranked], at, log)}
    codes = {str(pk): code for code, pk in reference.category_ids_by_code().items()}
    boroughs = {b.gss_code: b for b in reference.boroughs()}
    answer = []
    day = at.astimezone(LONDON).date()
    # Many services keep the same hours (24/7, office hours...): work each pattern out once.
    # The exceptions' joined text is the key as it came (nearly always None): the same
    # exceptions listed in another order are only worked out twice.
    states: dict[tuple, TimeFit] = {}
    for found in ranked:
        row = rows[found.service_id]
        borough = boroughs[row["borough_id"]]
        row.update(borough_name=borough.name, ics=borough.ics)
        key = (_spans(row["spans"]), row["exceptions"], row["bank_holiday_hours"])
        if key not in states:
            states[key] = time_fit_in(
                *_intervals(*key, day), at, within=timedelta(minutes=within), stay=STAY
            )
        categories = [codes.get(pk) or "" for pk in _ids(row["category_ids"])]
        covered = [boroughs[code].name for code in _ids(row["covered_ids"])]
        answer.append(_summary(row, categories, covered, states[key], at, found.distance))
    return answer


def service_summary(
    service: Service, at: datetime, *, distance_km: float | None = None, within: int = 0
) -> dict[str, Any]:
    """One service as the search's API shows it, serialised (expects the prefetches
    describe makes)."""
    from directory.hours import service_time_fit

    location = service.location
    row = {name: getattr(service, name) for name in _SUMMARY_FIELDS}
    row.update(
        id=service.pk,
        organisation_name=service.organisation.name,
        address=location.address,
        postcode=location.postcode,
        lat=location.latitude,
        lon=location.longitude,
        borough_name=location.borough.name,
        ics=location.borough.ics,
    )
    return summary_json(
        _summary(
            row,
            [c.code for c in service.categories.all()],
            [b.name for b in service.boroughs_covered.all()],
            service_time_fit(service, at, within=timedelta(minutes=within), stay=STAY),
            at,
            distance_km,
        )
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary_json(summary: dict[str, Any]) -> dict[str, Any]:
    """One result (_summary) as the API sends it, its datetimes as ISO 8601 text.

    Only these four keys hold datetimes, so they are converted by name rather than by
    walking every value of every result (a third of a millisecond a search);
    tests/directory/test_search_json.py walks whole answers to keep this list whole."""
    capacity = summary["capacity"]
    return {
        **summary,
        "next_change": _iso(summary["next_change"]),
        "opens_at": _iso(summary["opens_at"]),
        "capacity": {
            **capacity,
            "updated_at": _iso(capacity["updated_at"]),
            "expires_at": _iso(capacity["expires_at"]),
        },
    }


def _summary(
    row: dict[str, Any],
    categories: list[str],
    covered: list[str],
    hours: TimeFit,
    at: datetime,
    distance_km: float | None,
) -> dict[str, Any]:
    state = hours.state
    # Opens later, within the urgency window: when, and in how many minutes (rounded up,
    # so "in 20 min" is never early).
    later = hours.takes_from if hours.takes_from is not None and hours.takes_from > at else None
    return {
        "id": row["id"],
        "name": row["name"],
        "public_name": row["public_name"],
        "organisation": {"id": row["organisation_id"], "name": row["organisation_name"]},
        "categories": sorted(categories),
        "distance_km": round(distance_km, 2) if distance_km is not None else None,
        "open_now": state.open,
        "next_change": state.next_change.astimezone(LONDON) if state.next_change else None,
        "opens_at": later.astimezone(LONDON) if later else None,
        "opens_in_minutes": math.ceil((later - at).total_seconds() / 60) if later else None,
        "capacity": capacity_live(
            SimpleNamespace(**{name: row[name] for name in _CAPACITY_FIELDS}), at
        ),
        "location": {
            "address": row["address"],
            "postcode": row["postcode"],
            "lat": row["lat"],
            "lon": row["lon"],
            "borough": row["borough_name"],
            "ics": row["ics"],
        },
        "phone": row["phone"],
        "professional_phone": row["professional_phone"],
        "referral_instructions": row["referral_instructions"],
        "accepts_referrals_when_closed": row["accepts_referrals_when_closed"],
        "eligibility": {
            "min_age": row["min_age"],
            "max_age": row["max_age"],
            "sexes": row["sexes"] or [],
            "boroughs_covered": sorted(covered),
            "inclusion_criteria": row["inclusion_criteria"],
            "exclusion_criteria": row["exclusion_criteria"],
        },
    }
