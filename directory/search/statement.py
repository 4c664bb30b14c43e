"""The search's main statement, compiled by the ORM once per shape of search and reused.

Building and compiling the queryset (directory/search/sql.py: candidates_queryset,
fast_rows_queryset) cost about 7 ms of CPU per search, more than the database takes to
answer it. Its SQL text depends only on the search's shape: which filters are present
(categories and how many, age, sex, a borough, a clock change or bank holiday near), the
time group and the distance band; the values (the point, the radius, the category ids,
the age, the borough, `at`, the days near it) are parameters. So each shape is compiled
once per process from sentinel values, each sentinel's places among the parameters are
noted, and later searches of that shape fill those places with their own values. The
rules keep their one home (directory/eligibility.py, directory/timing.py): this module
only remembers what the ORM made of them.

A shape whose sentinels cannot all be found among the parameters (a rule that pastes a
value into the SQL text) is compiled on every search instead, as before.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from django.db import connection

from config.compiled import fill, parameter_template, sentinel_slots
from directory.geo import bounding_box, distance_params
from directory.models import Borough
from directory.search.params import SearchQuery
from directory.search.rank import Ranked, band_km
from directory.search.sql import (
    UNCERTAIN,
    Moment,
    candidates_queryset,
    category_filter_ids,
    fast_rows_assemble,
    fast_rows_parts,
    near_days,
    nearest_band_km,
    nearest_band_settles,
)
from directory.timing import Group

# Values no real search sends, so that each is found among the compiled parameters.
_SENTINEL_POINT = (51.2345678901, -0.3456789012)
_SENTINEL_RADIUS_KM = 4.3210987654
_SENTINEL_AGE = 4321
_SENTINEL_CATEGORY = 987_001
_SENTINEL_BOROUGH = "~S3NT1~"
_SENTINEL_AT = datetime(2003, 4, 5, 6, 7, 8, 91011, tzinfo=UTC)
_SENTINEL_LAST_DAY = date(2003, 4, 9)


class _Compiled(NamedTuple):
    """One shape's parts: the SQL texts and, for each parameter, a constant or a Slot."""

    inner: str
    inner_params: tuple
    uncertain: str | None
    uncertain_params: tuple


_compiled: dict[tuple, _Compiled | None] = {}


def _values(query: SearchQuery, moment: Moment, radius_km: float, ids: list[int]) -> dict:
    """Every value the parts take from this search, by slot name."""
    values: dict[str, Any] = dict(
        zip(
            ("min_lat", "max_lat", "min_lon", "max_lon"),
            bounding_box(query.latitude, query.longitude, radius_km),
            strict=True,
        )
    )
    _, values["phi0"], values["cos_phi0"], values["lambda0"] = distance_params(
        query.latitude, query.longitude
    )
    values["radius_km"] = radius_km
    values["at"] = moment.at
    for index, pk in enumerate(ids):
        values[f"category{index}"] = pk
    if not moment.clock_change:
        values["near_from"], values["near_to"] = near_days(moment)
    if query.age is not None:
        values["age"] = query.age
    if query.origin_borough is not None:
        values["borough"] = query.origin_borough.pk
    return values


def _shape(query: SearchQuery, moment: Moment, ids: list[int], group: int, uncertain: bool):
    return (
        connection.vendor,
        band_km(),
        len(query.categories),
        len(ids),
        query.age is None,
        query.sex,
        query.origin_borough is None,
        moment.clock_change,
        moment.bank_holiday_near,
        group,
        uncertain,
    )


def _compile(
    query: SearchQuery, moment: Moment, ids: list[int], group: int, with_uncertain: bool
) -> _Compiled | None:
    """The shape's parts compiled from sentinels, or None when a sentinel is not found."""
    sentinel_query = dataclasses.replace(
        query,
        latitude=_SENTINEL_POINT[0],
        longitude=_SENTINEL_POINT[1],
        radius_km=_SENTINEL_RADIUS_KM,
        age=None if query.age is None else _SENTINEL_AGE,
        at=_SENTINEL_AT,
        origin_borough=None if query.origin_borough is None else Borough(pk=_SENTINEL_BOROUGH),
    )
    sentinel_moment = dataclasses.replace(
        moment, at=_SENTINEL_AT, day=_SENTINEL_AT.date(), last_day=_SENTINEL_LAST_DAY
    )
    sentinel_ids = [_SENTINEL_CATEGORY + index for index in range(len(ids))]
    candidates = candidates_queryset(
        sentinel_query,
        sentinel_moment,
        categories=sentinel_query.categories,
        radius_km=_SENTINEL_RADIUS_KM,
        category_ids=sentinel_ids,
    )
    inner, inner_params, uncertain, uncertain_params = fast_rows_parts(
        sentinel_query, sentinel_moment, candidates, group=group, with_uncertain=with_uncertain
    )
    values = _values(sentinel_query, sentinel_moment, _SENTINEL_RADIUS_KM, sentinel_ids)
    slots = sentinel_slots(values)
    inner_template, found = parameter_template(inner_params, slots)
    uncertain_template, more = parameter_template(uncertain_params, slots)
    if found | more != set(values):
        return None
    return _Compiled(inner, inner_template, uncertain, uncertain_template)


def fast_rows_statement(
    query: SearchQuery,
    moment: Moment,
    *,
    radius_km: float,
    limit: int,
    group: int = Group.OPEN,
    with_uncertain: bool = False,
) -> tuple[str, list]:
    """fast_rows_sql's statement for the candidates within radius_km, the same SQL and
    parameters, from the shape's compiled parts."""
    ids = category_filter_ids(query.categories)
    key = _shape(query, moment, ids, group, with_uncertain)
    if key not in _compiled:
        _compiled[key] = _compile(query, moment, ids, group, with_uncertain)
    compiled = _compiled[key]
    if compiled is None:
        candidates = candidates_queryset(
            query, moment, categories=query.categories, radius_km=radius_km
        )
        parts = fast_rows_parts(
            query, moment, candidates, group=group, with_uncertain=with_uncertain
        )
    else:
        values = _values(query, moment, radius_km, ids)
        parts = (
            compiled.inner,
            fill(compiled.inner_params, values),
            compiled.uncertain,
            fill(compiled.uncertain_params, values),
        )
    return fast_rows_assemble(parts, moment, group=group, limit=limit)


# --- the fast path's rows ---------------------------------------------------------------------


def fast_rows(query: SearchQuery, moment: Moment) -> tuple[list[Ranked], list[int]]:
    """(rank, distance, service_id) of the best certain candidates, judged wholly in SQL
    (open now first, then open in time, then, unless open_only, closed ones: each asked
    for only while fewer than `limit` fit), and the ids of the uncertain candidates, left
    for Python to judge."""
    near = _nearest_band_rows(query, moment)
    if near is not None:
        return near
    return _group_rows(query, moment, query.radius_km)


def _nearest_band_rows(query: SearchQuery, moment: Moment) -> tuple[list[Ranked], list[int]] | None:
    """fast_rows from the nearest distance band alone, when that settles the answer: the
    database then scans the band's small box instead of the radius's (at 500,000
    services, about a tenth of the index). Otherwise None: search the whole radius."""
    near_km = nearest_band_km(query)
    if near_km is None:
        return None
    rows, uncertain = _group_rows(query, moment, near_km, groups=(Group.OPEN,))
    return (rows, uncertain) if nearest_band_settles(rows, query.limit) else None


def _group_rows(
    query: SearchQuery,
    moment: Moment,
    radius_km: float,
    *,
    groups: tuple[int, ...] = (Group.OPEN, Group.LATER, Group.CLOSED),
) -> tuple[list[Ranked], list[int]]:
    rows: list[Ranked] = []
    uncertain: list[int] = []
    for group in groups:
        if len(rows) >= query.limit or (group == Group.CLOSED and query.open_only):
            break
        sql, params = fast_rows_statement(
            query,
            moment,
            radius_km=radius_km,
            group=group,
            limit=query.limit - len(rows),
            with_uncertain=group == Group.OPEN,
        )
        with connection.cursor() as cursor:
            cursor.execute(*_planned_each_time(sql, params))
            for row in map(Ranked._make, cursor.fetchall()):
                if row.rank == UNCERTAIN:
                    uncertain.append(row.service_id)
                else:
                    rows.append(row)
    return rows, uncertain


def _planned_each_time(sql: str, params: list) -> tuple[str, list | None]:
    """The main statement with its values written into the text where the connection would
    prepare it (DB_PREPARE_THRESHOLD): PostgreSQL then plans it for this search's own box,
    radius and time. Prepared, it fell to a generic plan that was much slower on a large
    directory: at 500,000 services the bench's p50 was 28 ms prepared against 17 ms
    planned each time, while at 50,000 the plan cost about a millisecond more. Every other
    statement stays prepared. A text of its own each time is never counted up to being
    prepared."""
    if connection.vendor != "postgresql" or not connection.settings_dict.get("OPTIONS", {}).get(
        "prepare_threshold"
    ):
        return sql, params
    return connection.ops.compose_sql(sql, params), None
