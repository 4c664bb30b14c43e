"""The crew search: services near a point that can take this patient now, best first.

How it stays fast (bench/search.py): candidates come from one indexed range scan of
ServiceSearchEntry on (category, latitude, longitude), are cut to the radius by a
great-circle distance computed in the database, and are judged from the entry row alone:
it carries copies of the service's eligibility and capacity (written by
service_index_rebuild and capacity_set), so no service row is read per candidate. "Open
now" is one EXISTS probe of the precomputed WeeklyWindow rows, and the ranking and limit
happen in SQL. Open services are asked for first, from the nearest distance band's box
alone when that band holds a page of open, not-RED ones (nothing further out can outrank
them); closed ones only when fewer than `limit` open ones fit. The page's services are
then read in one query, with their categories, areas and hours, and the same statement
writes the search's log row (one round trip, not two). Python then reads exact
hours (directory/hours.py) only for

- the `limit` rows returned (for an exact next_change),
- candidates with a dated exception, or a bank holiday with special hours, within a day
  of `at` (WeeklyWindow knows only the weekly pattern), and
- every candidate on a clock-change day (wall-clock minutes are not real minutes then).

With `explain`, every candidate in the radius is judged in Python with the same rules
(directory/eligibility.py's Python form, over the same index rows), so each left-out
service can carry its reason.

The parts (this package): params.py (parsing), sql.py (the fast path), judged.py (the
exact path), results.py (each result's answer); they pass each other named rows
(rank.Ranked, judged.LeftOut); this module joins them, and the package's __init__ is the
contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from config.compiled import insert
from directory.hours import LONDON
from directory.models import PostcodeArea, SearchLog, Service
from directory.postcodes import postcode_district
from directory.reference import age_band
from directory.search.judged import LeftOut, judged_rows
from directory.search.params import (
    SearchQuery,
)
from directory.search.rank import Ranked
from directory.search.results import (
    describe,
    summary_json,
)
from directory.search.sql import (
    EMERGENCY_DEPARTMENT,
    Moment,
    candidates_queryset,
)
from directory.search.statement import fast_rows

# With explain, the nearest this many left-out services are listed.
EXCLUDED_LIMIT = 50
FALLBACK_CATEGORY = EMERGENCY_DEPARTMENT
FALLBACK_RADIUS_KM = 60.0
FALLBACK_COUNT = 2
# Outside London the nearest emergency departments we list may be far: reach all of Britain.
OUTSIDE_LONDON_FALLBACK_RADIUS_KM = 1200.0


@dataclass
class SearchResult:
    origin: dict[str, Any]
    results: list[dict[str, Any]]
    excluded: list[dict[str, Any]]
    fallback: list[dict[str, Any]]
    explain: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The API's answer, serialised; pages render the same data from the fields."""
        body: dict[str, Any] = {
            "origin": self.origin,
            "count": len(self.results),
            "results": [summary_json(item) for item in self.results],
        }
        if self.explain:
            body["excluded"] = [_excluded_json(item) for item in self.excluded]
        body["fallback"] = [summary_json(item) for item in self.fallback]
        return body


def service_search(*, query: SearchQuery, logged_for: Any = None) -> SearchResult:
    """Services near the origin that fit the patient, ranked by directory/search/rank.py:
    open now, then open within the urgency window (saying when), then closed; RED last
    within each; by distance band, capacity, distance; id breaks ties. Open but closing
    within 30 minutes (and not reopening in time) is left out. Emergency departments only
    when their category is asked for; when nothing fits, the two nearest within 60 km are
    offered as a fallback; outside London always, however far.

    logged_for: the user searching, whose search is kept in the de-identified log
    (search_log_row). Its row is written by the statement that reads the page of results,
    when all of it is known by then (no fallback can be shown), so it costs no round trip."""
    moment = Moment.of(query.at, query.within)
    left_out: list[LeftOut] = []
    if query.explain:
        ranked, left_out = judged_rows(
            query, moment, _candidates(query, moment), only_uncertain=False
        )
    elif moment.clock_change:  # every candidate is uncertain today
        ranked = judged_rows(query, moment, _candidates(query, moment), only_uncertain=True)[0]
    else:
        # The usual search: its statements come compiled (directory/search/statement.py),
        # and the queryset is built only when a few candidates must be judged in Python.
        ranked, uncertain = fast_rows(query, moment)
        if uncertain:
            ranked += judged_rows(
                query,
                moment,
                _candidates(query, moment),
                only_uncertain=True,
                service_ids=uncertain,
            )[0]
    ranked.sort()
    ranked = ranked[: query.limit]

    may_fall_back = not ranked or query.outside_london
    log = None
    if logged_for is not None and not may_fall_back:
        log = search_log_row(query=query, user=logged_for, result_count=len(ranked))
    results = describe(ranked, query.at, query.within, log=log)
    fallback: list[dict[str, Any]] = []
    if may_fall_back:
        fallback = _fallback(query, moment)
    result = SearchResult(
        origin=_origin(query),
        results=results,
        excluded=_excluded(left_out),
        fallback=fallback,
        explain=query.explain,
    )
    if logged_for is not None and may_fall_back:
        search_log_record(query=query, result=result, user=logged_for)
    return result


def _candidates(query: SearchQuery, moment: Moment) -> QuerySet:
    return candidates_queryset(
        query, moment, categories=query.categories, radius_km=query.radius_km
    )


def _excluded(left_out: list[LeftOut]) -> list[dict[str, Any]]:
    """The nearest left-out services with their names, as the API answers them."""
    if not left_out:
        return []
    nearest = sorted(left_out, key=lambda item: (round(item.distance, 2), item.service_id))
    nearest = nearest[:EXCLUDED_LIMIT]
    names = dict(
        Service.objects.filter(pk__in=[e.service_id for e in nearest]).values_list("pk", "name")
    )
    answer = []
    for item in nearest:
        entry: dict[str, Any] = {
            "id": item.service_id,
            "name": names.get(item.service_id, ""),
            "distance_km": round(item.distance, 2),
            "reason": item.reason,
        }
        if item.closes_at is not None:
            entry["closes_at"] = item.closes_at.astimezone(LONDON)
        answer.append(entry)
    return answer


def _excluded_json(item: dict[str, Any]) -> dict[str, Any]:
    """A left-out service as the API sends it (closes_at, when present, as ISO 8601 text)."""
    if "closes_at" not in item:
        return item
    return {**item, "closes_at": item["closes_at"].isoformat()}


def _fallback(query: SearchQuery, moment: Moment) -> list[dict[str, Any]]:
    radius = OUTSIDE_LONDON_FALLBACK_RADIUS_KM if query.outside_london else FALLBACK_RADIUS_KM
    candidates = candidates_queryset(
        query, moment, categories=[FALLBACK_CATEGORY], radius_km=radius
    )
    rows = list(
        candidates.filter(service__active=True)
        .values_list("distance", "service_id")
        .order_by("distance", "service_id")[:FALLBACK_COUNT]
    )
    return describe([Ranked(0, distance, pk) for distance, pk in rows], query.at, query.within)


def _origin(query: SearchQuery) -> dict[str, Any]:
    borough = query.origin_borough
    label = query.origin_postcode or f"{query.latitude:.4f}, {query.longitude:.4f}"
    return {
        "lat": query.latitude,
        "lon": query.longitude,
        "postcode": query.origin_postcode,
        "label": label,
        # postcode, sector, district or coordinates; approximate when an area's centre
        # stood in for a postcode the table lacks (area names it).
        "precision": query.origin_precision,
        "approximate": query.origin_precision in PostcodeArea.Kind.values,
        "area": query.origin_area,
        "borough": {"code": borough.gss_code, "name": borough.name} if borough else None,
        "ics": borough.ics if borough else None,
        "outside_london": query.outside_london,
        "at": query.at.astimezone(LONDON).isoformat(),
    }


# --- the de-identified log -------------------------------------------------------------------


def search_log_row(
    *, query: SearchQuery, user: Any, result_count: int, fallback_shown: bool = False
) -> SearchLog:
    """One de-identified row for a search: borough and postcode district only, no point,
    no patient beyond an age band."""
    return SearchLog(
        borough_id=query.origin_borough.pk if query.origin_borough else None,
        postcode_district=postcode_district(query.origin_postcode or query.origin_area or ""),
        categories=list(query.categories),
        age_band=age_band(query.age) or "",
        result_count=result_count,
        fallback_shown=fallback_shown,
        organisation_id=getattr(user, "organisation_id", None),
    )


def search_log_record(*, query: SearchQuery, result: SearchResult, user: Any) -> None:
    """Keep a search's de-identified row (search_log_row), on its own statement.

    Written by config/compiled.py's insert (its INSERT built once per connection): Model.save's
    machinery cost more CPU than the statement, about half a millisecond a search."""
    insert(
        [
            search_log_row(
                query=query,
                user=user,
                result_count=len(result.results),
                fallback_shown=bool(result.fallback),
            )
        ]
    )
