"""The search's exact path: candidates judged in Python from the service rows (H8).

Used for `explain` (every candidate, with reasons) and for the few uncertain candidates.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import BooleanField, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from directory.hours import LONDON, DayHours, TimeFit, time_fit
from directory.models import OpeningException, OpeningSpan, ServiceSearchEntry, WeeklyWindow
from directory.search_params import SearchQuery
from directory.search_rank import capacity_rank_case, rank
from directory.search_sql import Moment
from directory.selectors import (
    Facts,
    Reason,
    age_fits,
    area_fits,
    exceptions_window,
    is_full,
    problem_from_facts,
    sex_fits,
    sql_covers,
)
from directory.timing import STAY, sql_open_now, sql_usable_now, sql_usable_within


class _Candidate(NamedTuple):
    service_id: int
    distance: float
    capacity_rank: int
    uncertain: bool
    active: bool
    min_age: int | None
    max_age: int | None
    sexes_text: str | None
    covers_any_now: bool
    covers_origin: bool
    slots: int | None
    expires_at: datetime | None
    bank_holiday_hours: str
    accepts_when_closed: bool
    open_now: bool
    usable_now: bool
    usable_within: bool
    closes_minute: int | None


def _window_facts(moment: Moment) -> dict[str, Any]:
    """The time rule's SQL form (directory/timing.py) on each candidate, from the weekly
    windows: the same conditions the fast path filters on."""
    quote = connection.ops.quote_name
    outer = f"{quote(ServiceSearchEntry._meta.db_table)}.{quote('service_id')}"
    table = quote(WeeklyWindow._meta.db_table)
    facts: dict[str, Any] = {}
    for name, (sql, params) in {
        "open_now_w": sql_open_now(outer, moment.minute),
        "usable_now_w": sql_usable_now(outer, moment.minute),
        "usable_within_w": sql_usable_within(outer, moment.minute, moment.within),
    }.items():
        # Quoted identifiers and the timing module's SQL only; every value is a parameter.
        facts[name] = RawSQL(sql, params, output_field=BooleanField())  # noqa: S611
    starts, ends = quote("starts"), quote("ends")
    facts["closes_minute"] = RawSQL(  # noqa: S611
        f"SELECT w.{ends} FROM {table} w WHERE w.{quote('service_id')} = {outer}"  # noqa: S608
        f" AND w.{starts} <= %s AND w.{ends} > %s",
        [moment.minute, moment.minute],
    )
    return facts


def judged_rows(
    query: SearchQuery,
    moment: Moment,
    candidates: QuerySet,
    *,
    only_uncertain: bool,
    service_ids: list[int] | None = None,
) -> tuple[list[tuple], list[dict[str, Any]]]:
    """Judge candidates in Python: (rank, distance, id) of those that fit, and the rest with
    their reasons. Hours come from the weekly windows, or exactly for uncertain rows."""
    covers_any, covers_origin = sql_covers("service_id", query.origin_borough)
    if only_uncertain:
        candidates = candidates.filter(uncertain=True)
    if service_ids is not None:
        candidates = candidates.filter(service_id__in=service_ids)
    # The service's own columns, not the entry's copies: these rows may lack them.
    rows = candidates.annotate(
        capacity_rank=capacity_rank_case(moment.at, "service__"),
        sexes_text=Cast("service__sexes", TextField()),
        covers_any_now=covers_any,
        covers_origin=covers_origin,
        **_window_facts(moment),
    ).values_list(
        "service_id",
        "distance",
        "capacity_rank",
        "uncertain",
        "service__active",
        "service__min_age",
        "service__max_age",
        "sexes_text",
        "covers_any_now",
        "covers_origin",
        "service__capacity_slots",
        "service__capacity_expires_at",
        "service__bank_holiday_hours",
        "service__accepts_referrals_when_closed",
        "open_now_w",
        "usable_now_w",
        "usable_within_w",
        "closes_minute",
    )
    unique: dict[int, _Candidate] = {}
    for row in rows:
        candidate = _Candidate(*row)
        unique.setdefault(candidate.service_id, candidate)

    exact = _exact_fits([c for c in unique.values() if c.uncertain], moment.at, moment.within)
    fitting: list[tuple] = []
    excluded: list[dict[str, Any]] = []
    for c in unique.values():
        if c.uncertain:
            hours = exact[c.service_id]
            open_now = hours.state.open
            usable_now = hours.takes_from is not None and hours.takes_from <= moment.at
            usable_within = hours.takes_from is not None
            closes_at = hours.state.next_change if open_now else None
        else:
            open_now, usable_now, usable_within = (
                bool(c.open_now),
                bool(c.usable_now),
                bool(c.usable_within),
            )
            closes_at = (
                _wall_minute(moment, c.closes_minute)
                if open_now and c.closes_minute < 2 * WeeklyWindow.MINUTES_PER_WEEK
                else None
            )
        facts = Facts(
            active=c.active,
            age_ok=age_fits(c.min_age, c.max_age, query.age),
            sex_ok=sex_fits(json.loads(c.sexes_text) if c.sexes_text else [], query.sex),
            area_ok=area_fits(c.covers_any_now, c.covers_origin),
            full=is_full(c.slots, c.expires_at, moment.at),
            open_now=open_now,
            usable_now=usable_now,
            usable_in_window=usable_within,
            accepts_when_closed=c.accepts_when_closed,
        )
        reason = problem_from_facts(facts, closed_is_problem=query.open_only)
        if reason is None:
            ranked = rank(facts.group, c.capacity_rank, c.distance)
            fitting.append((ranked, c.distance, c.service_id))
        else:
            left_out = {"id": c.service_id, "distance_km": round(c.distance, 2), "reason": reason}
            if reason == Reason.CLOSING_SOON and closes_at is not None:
                left_out["closes_at"] = closes_at.astimezone(LONDON).isoformat()
            excluded.append(left_out)
    return fitting, excluded


def _wall_minute(moment: Moment, minute_of_week: int) -> datetime:
    # Not a clock-change day (those rows are judged exactly), so wall minutes are real.
    start = moment.at.astimezone(LONDON).replace(second=0, microsecond=0)
    return start + timedelta(minutes=minute_of_week - moment.minute)


def _exact_fits(rows: list[_Candidate], at: datetime, within: int) -> dict[int, TimeFit]:
    """directory.hours.time_fit for a few services, in two queries."""
    if not rows:
        return {}
    ids = [row.service_id for row in rows]
    spans: dict[int, list] = {pk: [] for pk in ids}
    for service_id, weekday, opens, closes in OpeningSpan.objects.filter(
        service_id__in=ids
    ).values_list("service_id", "weekday", "opens", "closes"):
        spans[service_id].append((weekday, opens, closes))
    exceptions: dict[int, dict] = {pk: {} for pk in ids}
    for service_id, day, closed, opens, closes in OpeningException.objects.filter(
        service_id__in=ids, date__range=exceptions_window(at)
    ).values_list("service_id", "date", "closed", "opens", "closes"):
        exceptions[service_id][day] = DayHours(closed, opens, closes)
    return {
        row.service_id: time_fit(
            spans[row.service_id],
            exceptions[row.service_id],
            row.bank_holiday_hours,
            at,
            within=timedelta(minutes=within),
            stay=STAY,
        )
        for row in rows
    }
