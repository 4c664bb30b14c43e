"""The search's fast path: candidates judged wholly in SQL from the index rows (H8).

See directory/search.py for how the parts fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    IntegerField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast

from directory import reference
from directory.geo import bounding_box, distance_km_sql
from directory.hours import LONDON, is_bank_holiday
from directory.models import (
    BankHolidayHours,
    Capacity,
    OpeningException,
    Service,
    ServiceSearchEntry,
    Sex,
    WeeklyWindow,
)
from directory.search_params import SearchQuery
from directory.selectors import (
    CLOSING_SOON_MINUTES,
    sql_age_fits,
    sql_not_full,
    sql_sexes_text_fits,
)

RANK_CLOSED = 4
UNCERTAIN = -1  # marks an uncertain candidate in fast_rows_sql's answer


# --- the search ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """`at` as the SQL fast path reads it."""

    at: datetime
    minute: int  # of the week, London wall clock, Monday 00:00 = 0
    day: date
    clock_change: bool  # today the clocks change: judge every candidate exactly
    bank_holiday_near: bool

    @classmethod
    def of(cls, at: datetime) -> Moment:
        local = at.astimezone(LONDON)
        day = local.date()
        midnight = datetime.combine(day, time(0), tzinfo=LONDON)
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
        return cls(
            at=at,
            minute=local.weekday() * 1440 + local.hour * 60 + local.minute,
            day=day,
            clock_change=midnight.utcoffset() != next_midnight.utcoffset(),
            bank_holiday_near=any(is_bank_holiday(day + timedelta(days=k)) for k in (-1, 0, 1)),
        )


def candidates_queryset(
    query: SearchQuery,
    moment: Moment,
    *,
    categories: list[str],
    radius_km: float,
) -> QuerySet:
    """Index entries within the radius, with their distance and whether the fast path may
    judge them (`uncertain` when it may not)."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(query.latitude, query.longitude, radius_km)
    entries = ServiceSearchEntry.objects.filter(
        latitude__range=(min_lat, max_lat), longitude__range=(min_lon, max_lon)
    )
    if categories:
        # Ids from the process's cache: no join to the category table.
        entries = entries.filter(category_id__in=list(reference.category_ids(categories).values()))
    if moment.clock_change:
        uncertain: Any = Value(True)
    else:
        near_days = (moment.day - timedelta(days=1), moment.day + timedelta(days=1))
        # IN (subquery) rather than EXISTS: PostgreSQL hashes the few services with an
        # exception near `at` once, instead of probing the exceptions per candidate.
        condition = Q(facts_copied=False) | Q(
            service_id__in=OpeningException.objects.filter(date__range=near_days).values(
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


def capacity_rank_case(at: datetime, prefix: str = "") -> Case:
    live = Q(**{f"{prefix}capacity_expires_at__gt": at})
    return Case(
        When(live & Q(**{f"{prefix}capacity_status": Capacity.GREEN}), then=Value(0)),
        When(live & Q(**{f"{prefix}capacity_status": Capacity.AMBER}), then=Value(1)),
        When(live & Q(**{f"{prefix}capacity_status": Capacity.RED}), then=Value(3)),
        default=Value(2),
        output_field=IntegerField(),
    )


def _certain_fits(query: SearchQuery, moment: Moment, candidates: QuerySet) -> QuerySet:
    """The certain candidates whose copied facts fit the patient (hours aside)."""
    rows = (
        candidates.filter(uncertain=False, active=True)
        .filter(sql_age_fits(query.age))
        .filter(sql_not_full(moment.at))
    )
    through = Service.boroughs_covered.through
    origin = query.origin_borough.pk if query.origin_borough else None
    rows = rows.filter(
        Q(covers_any=False)
        | Q(service_id__in=through.objects.filter(borough_id=origin).values("service_id"))
    )
    if query.sex and query.sex != Sex.UNKNOWN:
        rows = rows.annotate(sexes_text=Cast("sexes", TextField())).filter(
            sql_sexes_text_fits(query.sex)
        )
    return rows


def fast_rows_queryset(
    query: SearchQuery, moment: Moment, candidates: QuerySet, *, open_now: bool = True
) -> QuerySet:
    """The certain candidates that fit the patient, hours aside, as (rank, distance,
    service_id): ranked by capacity then distance if open_now, else by distance alone
    (the inner part of fast_rows_sql)."""
    rows = _certain_fits(query, moment, candidates)
    if open_now:
        rows = rows.annotate(rank=capacity_rank_case(moment.at)).order_by(
            "rank", "distance", "service_id"
        )
    else:
        rows = rows.annotate(rank=Value(RANK_CLOSED, output_field=IntegerField())).order_by(
            "distance", "service_id"
        )
    rows = rows.values_list("rank", "distance", "service_id")
    if len(query.categories) != 1:
        rows = rows.distinct()  # a service in two of the categories is one result
    return rows


def fast_rows_sql(
    query: SearchQuery,
    moment: Moment,
    candidates: QuerySet,
    *,
    open_now: bool,
    limit: int,
    with_uncertain: bool = False,
) -> tuple[str, list]:
    """The search's main statement (bench/search.py times it as raw SQL).

    open_now: the best `limit` candidates open at `at` and not closing within 30 minutes;
    otherwise the nearest `limit` closed at `at`. The candidates arrive already sorted
    from the entry rows alone, and the weekly windows are probed in that order, so the
    database stops after about `limit` probes instead of probing every candidate.
    with_uncertain: also list the uncertain candidates, with rank UNCERTAIN, in the same
    round trip (usually there are none, and then no second query is needed).
    """
    rows = fast_rows_queryset(query, moment, candidates, open_now=open_now)
    inner, params = rows.query.sql_with_params()
    # Only quoted identifiers and ORM-compiled SQL are pasted in; every value is a parameter.
    quote = connection.ops.quote_name
    table, service_id = quote(WeeklyWindow._meta.db_table), quote("service_id")
    starts, ends = quote("starts"), quote("ends")
    window = f"SELECT 1 FROM {table} w WHERE w.{service_id} = c.{service_id} AND w.{starts} <= %s"  # noqa: S608, E501
    window += f" AND w.{ends} "
    if open_now:
        # Merged windows do not overlap, so "a window holds `at` and ends 30 minutes or
        # more later" says both open now and not closing soon.
        test = f"EXISTS ({window}>= %s)"
        bounds = [moment.minute, moment.minute + CLOSING_SOON_MINUTES]
    else:
        test = f"NOT EXISTS ({window}> %s)"
        bounds = [moment.minute, moment.minute]
    columns = ", ".join(f"c.{quote(name)}" for name in ("rank", "distance", "service_id"))
    sql = f"SELECT {columns} FROM ({inner}) c WHERE {test} ORDER BY {columns} LIMIT %s"  # noqa: S608
    params = [*params, *bounds, limit]
    if with_uncertain:
        uncertain, more = (
            candidates.filter(uncertain=True)
            .annotate(rank=Value(UNCERTAIN, output_field=IntegerField()))
            .values_list("rank", "distance", "service_id")
            .order_by()
            .query.sql_with_params()
        )
        # Each side in its own FROM: SQLite refuses ORDER BY/LIMIT inside a compound's arm.
        sql = f"SELECT * FROM ({sql}) f UNION ALL SELECT * FROM ({uncertain}) u"  # noqa: S608
        params += more
    return sql, params


def fast_rows(
    query: SearchQuery, moment: Moment, candidates: QuerySet
) -> tuple[list[tuple], list[int]]:
    """(rank, distance, service_id) of the best certain candidates, judged wholly in SQL
    (open ones first; closed ones only when fewer than `limit` open ones fit), and the ids
    of the uncertain candidates, left for Python to judge."""
    rows: list[tuple] = []
    uncertain: list[int] = []
    for open_now in (True, False):
        if len(rows) >= query.limit or (not open_now and query.open_only):
            break
        sql, params = fast_rows_sql(
            query,
            moment,
            candidates,
            open_now=open_now,
            limit=query.limit - len(rows),
            with_uncertain=open_now,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                if row[0] == UNCERTAIN:
                    uncertain.append(row[2])
                else:
                    rows.append(tuple(row))
    return rows, uncertain
