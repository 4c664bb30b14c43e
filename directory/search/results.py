"""The search's answer for each service found: everything a crew needs (H8).

Times stay datetimes (London time for the hours) until the answer is serialised: the API
through as_json (SearchResult.as_dict, service_summary), the pages by formatting them.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet

from directory import reference
from directory.hours import LONDON, DayHours, TimeFit, time_fit
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


_summary_base: QuerySet | None = None


def _summary_rows() -> QuerySet:
    """The services' own columns as rows; resolved once per process and cloned per search,
    as resolving these twenty-odd names costs more than the query itself."""
    global _summary_base
    if _summary_base is None:
        _summary_base = Service.objects.values(
            "id",
            *_SUMMARY_FIELDS,
            organisation_name=F("organisation__name"),
            address=F("location__address"),
            postcode=F("location__postcode"),
            lat=F("location__latitude"),
            lon=F("location__longitude"),
            borough_id=F("location__borough_id"),
            # Most services have no boroughs covered (nor exceptions): their queries
            # below are then skipped.
            covers=Exists(
                Service.boroughs_covered.through.objects.filter(service_id=OuterRef("pk"))
            ),
        )
    return _summary_base


def describe(ranked: list[Ranked], at: datetime, within: int = 0) -> list[dict[str, Any]]:
    """The full answer for each ranked service, in that order; hours read exactly,
    with when each opens within the urgency window of `within` minutes.

    Plain rows rather than model instances and prefetches: five light queries, no
    per-row objects (this runs on every search)."""
    if not ranked:
        return []
    ids = [row.service_id for row in ranked]
    window = exceptions_window(at)
    rows = {
        row["id"]: row
        for row in _summary_rows()
        .filter(pk__in=ids)
        .annotate(
            excepted=Exists(
                OpeningException.objects.filter(service_id=OuterRef("pk"), date__range=window)
            )
        )
    }
    codes = {pk: code for code, pk in reference.category_ids_by_code().items()}
    boroughs = {b.gss_code: b for b in reference.boroughs()}
    categories: dict[int, list[str]] = {pk: [] for pk in ids}
    for service_id, category_id in Service.categories.through.objects.filter(
        service_id__in=ids
    ).values_list("service_id", "category_id"):
        categories[service_id].append(codes.get(category_id) or "")
    covered: dict[int, list[str]] = {pk: [] for pk in ids}
    for service_id, borough_id in Service.boroughs_covered.through.objects.filter(
        service_id__in=[pk for pk, row in rows.items() if row["covers"]]
    ).values_list("service_id", "borough_id"):
        covered[service_id].append(boroughs[borough_id].name)
    spans: dict[int, list[tuple]] = {pk: [] for pk in ids}
    for service_id, *span in OpeningSpan.objects.filter(service_id__in=ids).values_list(
        "service_id", "weekday", "opens", "closes"
    ):
        spans[service_id].append(tuple(span))
    exceptions: dict[int, dict] = {pk: {} for pk in ids}
    for service_id, day, closed, opens, closes in OpeningException.objects.filter(
        service_id__in=[pk for pk, row in rows.items() if row["excepted"]], date__range=window
    ).values_list("service_id", "date", "closed", "opens", "closes"):
        exceptions[service_id][day] = DayHours(closed, opens, closes)
    answer = []
    # Many services keep the same hours (24/7, office hours...): work each pattern out once.
    states: dict[tuple, TimeFit] = {}
    for found in ranked:
        pk, distance = found.service_id, found.distance
        row = rows[pk]
        borough = boroughs[row["borough_id"]]
        row.update(borough_name=borough.name, ics=borough.ics)
        hours = (tuple(sorted(spans[pk])), tuple(sorted(exceptions[pk].items())))
        key = (*hours, row["bank_holiday_hours"])
        if key not in states:
            states[key] = time_fit(
                spans[pk],
                exceptions[pk],
                row["bank_holiday_hours"],
                at,
                within=timedelta(minutes=within),
                stay=STAY,
            )
        state = states[key]
        answer.append(_summary(row, categories[pk], covered[pk], state, at, distance))
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
    return as_json(
        _summary(
            row,
            [c.code for c in service.categories.all()],
            [b.name for b in service.boroughs_covered.all()],
            service_time_fit(service, at, within=timedelta(minutes=within), stay=STAY),
            at,
            distance_km,
        )
    )


def as_json(value: Any) -> Any:
    """An answer with its datetimes as ISO 8601 text, as the API sends them."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    return value


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
        "capacity": capacity_live(SimpleNamespace(**row), at),
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
