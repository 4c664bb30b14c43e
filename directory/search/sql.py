"""The search's fast path: candidates judged wholly in SQL from the index rows (H8).

See directory/search/__init__.py for how the parts fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    IntegerField,
    Q,
    QuerySet,
    Value,
)

from directory import reference
from directory.eligibility import sexes_text, sql_fits
from directory.geo import bounding_box, distance_km_sql
from directory.hours import LONDON, is_bank_holiday
from directory.models import (
    BankHolidayHours,
    OpeningException,
    ServiceSearchEntry,
    Sex,
)
from directory.search.params import SearchQuery
from directory.search.rank import Ranked, band_km, in_first_band, sql_rank
from directory.timing import STAY, Group, sql_time_group

UNCERTAIN = -1  # marks an uncertain candidate in fast_rows_sql's answer
# Emergency departments are listed only when asked for, or as the fallback when nothing fits.
EMERGENCY_DEPARTMENT = "emergency-department"


# --- the search ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """`at` and the urgency window as the SQL fast path reads them."""

    at: datetime
    minute: int  # of the week, London wall clock, Monday 00:00 = 0
    day: date
    # The clocks change on a day the window touches: judge every candidate exactly.
    clock_change: bool
    bank_holiday_near: bool
    within: int = 0  # minutes: the urgency window (0: now)
    last_day: date | None = None  # the London day the window (and its stay) ends on

    @classmethod
    def of(cls, at: datetime, within: int = 0) -> Moment:
        local = at.astimezone(LONDON)
        day = local.date()
        last_day = (at + timedelta(minutes=within) + STAY).astimezone(LONDON).date()
        midnight = datetime.combine(day, time(0), tzinfo=LONDON)
        after_last = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=LONDON)
        span = (last_day - day).days
        return cls(
            at=at,
            minute=local.weekday() * 1440 + local.hour * 60 + local.minute,
            day=day,
            clock_change=midnight.utcoffset() != after_last.utcoffset(),
            bank_holiday_near=any(
                is_bank_holiday(day + timedelta(days=k)) for k in range(-1, span + 2)
            ),
            within=within,
            last_day=last_day,
        )


def category_filter_ids(categories: list[str]) -> list[int]:
    """The category ids candidates_queryset filters on: those asked for, or with none
    asked for, the emergency department's (left out)."""
    # Ids from the process's cache: no join to the category table.
    return list(reference.category_ids(categories or [EMERGENCY_DEPARTMENT]).values())


def near_days(moment: Moment) -> tuple[date, date]:
    """The days a dated exception makes a candidate uncertain: from the day before `at`
    to the day after the urgency window (and its stay) ends."""
    return moment.day - timedelta(days=1), (moment.last_day or moment.day) + timedelta(days=1)


def candidates_queryset(
    query: SearchQuery,
    moment: Moment,
    *,
    categories: list[str],
    radius_km: float,
    category_ids: list[int] | None = None,
) -> QuerySet:
    """Index entries within the radius, with their distance and whether the fast path may
    judge them (`uncertain` when it may not). category_ids, when given, stands in for
    category_filter_ids(categories)."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(query.latitude, query.longitude, radius_km)
    entries = ServiceSearchEntry.objects.filter(
        latitude__range=(min_lat, max_lat), longitude__range=(min_lon, max_lon)
    )
    ids = category_filter_ids(categories) if category_ids is None else category_ids
    if categories:
        entries = entries.filter(category_id__in=ids)
    else:
        # Every kind of service except the emergency department: the product is the
        # alternative to it. A service also in another category is found through that one.
        entries = entries.exclude(category_id__in=ids)
    if moment.clock_change:
        uncertain: Any = Value(True)
    else:
        # IN (subquery) rather than EXISTS: PostgreSQL hashes the few services with an
        # exception near `at` once, instead of probing the exceptions per candidate.
        condition = Q(
            service_id__in=OpeningException.objects.filter(date__range=near_days(moment)).values(
                "service_id"
            )
        )
        if moment.bank_holiday_near:
            condition |= ~Q(bank_holiday_hours=BankHolidayHours.NORMAL)
        uncertain = ExpressionWrapper(condition, output_field=BooleanField())
    return (
        entries.annotate(
            distance=distance_km_sql(ServiceSearchEntry, query.latitude, query.longitude)
        )
        .filter(distance__lte=radius_km)
        .annotate(uncertain=uncertain)
    )


def _certain_fits(query: SearchQuery, moment: Moment, candidates: QuerySet) -> QuerySet:
    """The certain candidates whose copied facts fit the patient, hours aside
    (directory/eligibility.py's SQL form)."""
    rows = candidates.filter(uncertain=False)
    if query.sex and query.sex != Sex.UNKNOWN:
        rows = rows.annotate(sexes_text=sexes_text())
    return rows.filter(sql_fits(query.age, query.sex, query.origin_borough, moment.at))


def fast_rows_queryset(
    query: SearchQuery, moment: Moment, candidates: QuerySet, *, group: int = Group.OPEN
) -> QuerySet:
    """The certain candidates that fit the patient, hours aside, as (rank, distance,
    service_id, accepts_referrals_when_closed), ranked as a `group` row would be
    (directory/search/rank.py): the inner part of fast_rows_sql."""
    rows = _certain_fits(query, moment, candidates)
    rows = rows.annotate(rank=sql_rank(group, moment.at)).order_by("rank", "distance", "service_id")
    rows = rows.values_list("rank", "distance", "service_id", "accepts_referrals_when_closed")
    if len(query.categories) != 1:
        rows = rows.distinct()  # a service in two of the categories is one result
    return rows


def fast_rows_parts(
    query: SearchQuery,
    moment: Moment,
    candidates: QuerySet,
    *,
    group: int = Group.OPEN,
    with_uncertain: bool = False,
) -> tuple[str, list, str | None, list]:
    """The ORM-compiled parts of fast_rows_sql: the ranked certain fits, and (with_uncertain)
    the uncertain candidates marked UNCERTAIN; each as (sql, params)."""
    inner, params = fast_rows_queryset(
        query, moment, candidates, group=group
    ).query.sql_with_params()
    if not with_uncertain:
        return inner, list(params), None, []
    uncertain, more = (
        candidates.filter(uncertain=True)
        .annotate(rank=Value(UNCERTAIN, output_field=IntegerField()))
        .values_list("rank", "distance", "service_id")
        .order_by()
        .query.sql_with_params()
    )
    return inner, list(params), uncertain, list(more)


def fast_rows_assemble(
    parts: tuple[str, list, str | None, list], moment: Moment, *, group: int, limit: int
) -> tuple[str, list]:
    """fast_rows_sql's statement around its parts: the time rule and the limit."""
    inner, params, uncertain, more = parts
    quote = connection.ops.quote_name
    test, bounds = sql_time_group(
        f"c.{quote('service_id')}",
        f"c.{quote('accepts_referrals_when_closed')}",
        moment.minute,
        moment.within,
        group,
    )
    columns = ", ".join(f"c.{quote(name)}" for name in ("rank", "distance", "service_id"))
    # Only quoted identifiers and ORM-compiled SQL are pasted in; every value is a parameter.
    sql = f"SELECT {columns} FROM ({inner}) c WHERE {test} ORDER BY {columns} LIMIT %s"  # noqa: S608
    params = [*params, *bounds, limit]
    if uncertain is not None:
        # Each side in its own FROM: SQLite refuses ORDER BY/LIMIT inside a compound's arm.
        sql = f"SELECT * FROM ({sql}) f UNION ALL SELECT * FROM ({uncertain}) u"  # noqa: S608
        params += more
    return sql, params


def fast_rows_sql(
    query: SearchQuery,
    moment: Moment,
    candidates: QuerySet,
    *,
    limit: int,
    group: int = Group.OPEN,
    with_uncertain: bool = False,
) -> tuple[str, list]:
    """The search's main statement (bench/search.py times it as raw SQL; the search sends
    the same, compiled once per shape: directory/search/statement.py).

    The best `limit` certain candidates whose hours put them in `group`
    (directory/timing.py: open now for long enough; open in time; closed). The
    candidates arrive already sorted from the entry rows alone, and the weekly windows
    are probed in that order, so the database stops after about `limit` probes instead of
    probing every candidate.
    with_uncertain: also list the uncertain candidates, with rank UNCERTAIN, in the same
    round trip (usually there are none, and then no second query is needed).
    """
    parts = fast_rows_parts(query, moment, candidates, group=group, with_uncertain=with_uncertain)
    return fast_rows_assemble(parts, moment, group=group, limit=limit)


def nearest_band_km(query: SearchQuery) -> float | None:
    """The radius fast_rows searches first (the nearest distance band), or None when the
    bands are off or the band is no smaller than the search's radius."""
    near_km = band_km()
    return near_km if 0 < near_km < query.radius_km else None


def nearest_band_settles(rows: list[Ranked], limit: int) -> bool:
    """Whether the nearest band's best certain rows are the page: `limit` of them, the
    last still open, not RED and in the first band.

    A service beyond the first band ranks after every such one, whatever its hours or
    capacity, so nothing further out can enter the page."""
    return len(rows) >= limit and in_first_band(rows[limit - 1].rank)
