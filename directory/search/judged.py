"""The search's exact path: candidates judged in Python (H8), by the Python form of the
rules (directory/eligibility.py) over the index rows' copied facts.

Used for `explain` (every candidate, with reasons) and for the few uncertain candidates
(a dated exception or special bank-holiday hours near, or a clock change): their hours
are read exactly (directory/hours.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from directory.eligibility import (
    Facts,
    Reason,
    age_fits,
    area_fits,
    is_full,
    problem_from_facts,
    sex_fits,
    sexes_text,
    sql_covers,
)
from directory.hours import LONDON, DayHours, TimeFit, time_fit
from directory.models import OpeningException, OpeningSpan, ServiceSearchEntry, WeeklyWindow
from directory.search.params import SearchQuery
from directory.search.rank import Ranked, capacity_rank_case, rank
from directory.search.sql import Moment
from directory.selectors import exceptions_window
from directory.timing import STAY, sql_open_now, sql_usable_now, sql_usable_within


class _Candidate(NamedTuple):
    """One candidate as judged_rows reads it: each field a column or annotation name."""

    service_id: int
    distance: float
    capacity_rank: int
    uncertain: bool
    active: bool
    min_age: int | None
    max_age: int | None
    sexes_text: str | None
    covers_any: bool
    covers_origin: bool
    capacity_slots: int | None
    capacity_expires_at: datetime | None
    bank_holiday_hours: str
    accepts_referrals_when_closed: bool
    # The time rule's SQL form on the weekly windows (_window_facts).
    open_now: bool
    usable_now: bool
    usable_within: bool
    closes_minute: int | None


@dataclass(frozen=True)
class LeftOut:
    """A candidate in the radius that does not fit, and why (explain)."""

    service_id: int
    distance: float  # km
    reason: str
    closes_at: datetime | None = None  # when closing_soon: when it closes


def _window_facts(moment: Moment) -> dict[str, Any]:
    """The time rule's SQL form (directory/timing.py) on each candidate, from the weekly
    windows: the same conditions the fast path filters on."""
    quote = connection.ops.quote_name
    outer = f"{quote(ServiceSearchEntry._meta.db_table)}.{quote('service_id')}"
    table = quote(WeeklyWindow._meta.db_table)
    facts: dict[str, Any] = {}
    for name, (sql, params) in {
        "open_now": sql_open_now(outer, moment.minute),
        "usable_now": sql_usable_now(outer, moment.minute),
        "usable_within": sql_usable_within(outer, moment.minute, moment.within),
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
) -> tuple[list[Ranked], list[LeftOut]]:
    """Judge candidates in Python: those that fit, ranked, and the rest with their reasons.
    Hours come from the weekly windows, or exactly for uncertain rows."""
    covers_origin = sql_covers("service_id", query.origin_borough)[1]
    if only_uncertain:
        candidates = candidates.filter(uncertain=True)
    if service_ids is not None:
        candidates = candidates.filter(service_id__in=service_ids)
    # The entry's copies of the service's facts (the index is complete: directory/index.py
    # writes every column with the service), the same the fast path filters on.
    rows = candidates.annotate(
        capacity_rank=capacity_rank_case(moment.at),
        sexes_text=sexes_text(),
        covers_origin=covers_origin,
        **_window_facts(moment),
    ).values_list(*_Candidate._fields)
    unique: dict[int, _Candidate] = {}
    for row in map(_Candidate._make, rows):
        unique.setdefault(row.service_id, row)

    exact = _exact_fits([c for c in unique.values() if c.uncertain], moment.at, moment.within)
    fitting: list[Ranked] = []
    excluded: list[LeftOut] = []
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
            area_ok=area_fits(c.covers_any, c.covers_origin),
            full=is_full(c.capacity_slots, c.capacity_expires_at, moment.at),
            open_now=open_now,
            usable_now=usable_now,
            usable_in_window=usable_within,
            accepts_when_closed=c.accepts_referrals_when_closed,
        )
        reason = problem_from_facts(facts, closed_is_problem=query.open_only)
        if reason is None:
            ranked = rank(facts.group, c.capacity_rank, c.distance)
            fitting.append(Ranked(ranked, c.distance, c.service_id))
        else:
            closes = closes_at if reason == Reason.CLOSING_SOON else None
            excluded.append(LeftOut(c.service_id, c.distance, reason, closes))
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
