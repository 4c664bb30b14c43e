"""The search's exact path: candidates judged in Python from the service rows (H8).

Used for `explain` (every candidate, with reasons) and for the few uncertain candidates.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    F,
    FilteredRelation,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast

from directory.hours import LONDON, DayHours, opening_state
from directory.models import OpeningException, OpeningSpan, WeeklyWindow
from directory.search_params import SearchQuery
from directory.search_sql import RANK_CLOSED, Moment, capacity_rank_case
from directory.selectors import (
    CLOSING_SOON_MINUTES,
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

_FACT_COLUMNS = (
    "service_id",
    "distance",
    "capacity_rank",
    "closes_minute",
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
)


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
    open_window = FilteredRelation(
        "service__weekly_windows",
        condition=Q(
            service__weekly_windows__starts__lte=moment.minute,
            service__weekly_windows__ends__gt=moment.minute,
        ),
    )
    rows = (
        candidates.annotate(open_window=open_window)
        .annotate(
            closes_minute=F("open_window__ends"),
            capacity_rank=capacity_rank_case(moment.at, "service__"),
            sexes_text=Cast("service__sexes", TextField()),
            covers_any_now=covers_any,
            covers_origin=covers_origin,
        )
        .values_list(*_FACT_COLUMNS)
    )
    rows = list(rows)
    seen: set[int] = set()
    unique = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            unique.append(row)

    exact = _exact_states([row for row in unique if row[4]], moment.at)
    fitting: list[tuple] = []
    excluded: list[dict[str, Any]] = []
    for (
        service_id,
        distance,
        capacity_rank,
        closes_minute,
        uncertain,
        active,
        min_age,
        max_age,
        sexes_text,
        any_cover,
        origin_cover,
        slots,
        expires_at,
        _bank,
    ) in unique:
        if uncertain:
            state = exact[service_id]
            open_now = state.open
            closes_at = state.next_change if state.open else None
        else:
            open_now = closes_minute is not None
            closes_at = (
                _wall_minute(moment, closes_minute)
                if open_now and closes_minute < 2 * WeeklyWindow.MINUTES_PER_WEEK
                else None
            )
        facts = Facts(
            active=active,
            age_ok=age_fits(min_age, max_age, query.age),
            sex_ok=sex_fits(json.loads(sexes_text) if sexes_text else [], query.sex),
            area_ok=area_fits(any_cover, origin_cover),
            full=is_full(slots, expires_at, moment.at),
            open_now=open_now,
            closes_soon=open_now
            and closes_at is not None
            and closes_at - moment.at < timedelta(minutes=CLOSING_SOON_MINUTES),
        )
        reason = problem_from_facts(facts, closed_is_problem=query.open_only)
        if reason is None:
            fitting.append((capacity_rank if open_now else RANK_CLOSED, distance, service_id))
        else:
            left_out = {"id": service_id, "distance_km": round(distance, 2), "reason": reason}
            if reason == Reason.CLOSING_SOON:
                left_out["closes_at"] = closes_at.astimezone(LONDON).isoformat()
            excluded.append(left_out)
    return fitting, excluded


def _wall_minute(moment: Moment, minute_of_week: int) -> datetime:
    # Not a clock-change day (those rows are judged exactly), so wall minutes are real.
    start = moment.at.astimezone(LONDON).replace(second=0, microsecond=0)
    return start + timedelta(minutes=minute_of_week - moment.minute)


def _exact_states(rows: list[tuple], at: datetime) -> dict[int, Any]:
    """directory.hours.opening_state for a few services, in two queries."""
    if not rows:
        return {}
    ids = [row[0] for row in rows]
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
    return {row[0]: opening_state(spans[row[0]], exceptions[row[0]], row[-1], at) for row in rows}
