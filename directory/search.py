"""The crew search: services near a point that can take this patient now, best first.

How it stays fast (bench/search.py): candidates come from one indexed range scan of
ServiceSearchEntry on (category, latitude, longitude), are cut to the radius by a
great-circle distance computed in the database, and are judged there too: eligibility
from the service's columns, "open now / closes at" from precomputed WeeklyWindow rows,
ranked and limited in SQL. Python then reads exact hours (directory/hours.py) only for

- the `limit` rows returned (for an exact next_change),
- candidates with a dated exception, or a bank holiday with special hours, within a day
  of `at` (WeeklyWindow knows only the weekly pattern), and
- every candidate on a clock-change day (wall-clock minutes are not real minutes then).

With `explain`, every candidate in the radius is judged in Python with the same rules
(directory/selectors.py) so each left-out service can carry its reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from config.errors import DomainError
from directory.geo import bounding_box, distance_km_expression
from directory.hours import LONDON, DayHours, is_bank_holiday, opening_state
from directory.models import (
    BankHolidayHours,
    Borough,
    Capacity,
    Category,
    OpeningException,
    OpeningSpan,
    SearchLog,
    Service,
    ServiceSearchEntry,
    Sex,
    WeeklyWindow,
)
from directory.postcodes import (
    borough_nearest,
    postcode_district,
    postcode_locate,
    postcode_nearest,
)
from directory.selectors import (
    CLOSING_SOON_MINUTES,
    Facts,
    Reason,
    age_fits,
    area_fits,
    capacity_live,
    exceptions_window,
    is_full,
    problem_from_facts,
    sex_fits,
    sql_age_fits,
    sql_covers,
    sql_not_full,
    sql_sexes_text_fits,
)

DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_AGE = 129
# With explain, the nearest this many left-out services are listed.
EXCLUDED_LIMIT = 50
FALLBACK_CATEGORY = "emergency-department"
FALLBACK_RADIUS_KM = 60.0
FALLBACK_COUNT = 2

RANK_CLOSED = 4
_CAPACITY_RANK = {Capacity.GREEN: 0, Capacity.AMBER: 1, Capacity.UNKNOWN: 2, Capacity.RED: 3}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass
class SearchQuery:
    latitude: float
    longitude: float
    radius_km: float = DEFAULT_RADIUS_KM
    categories: list[str] = field(default_factory=list)
    age: int | None = None
    sex: str | None = None
    at: datetime = field(default_factory=timezone.now)
    open_only: bool = False
    limit: int = DEFAULT_LIMIT
    explain: bool = False
    # The postcode given, or for a coordinate the nearest known one within ~1 km.
    origin_postcode: str | None = None
    origin_borough: Borough | None = None


@dataclass
class SearchResult:
    origin: dict[str, Any]
    results: list[dict[str, Any]]
    excluded: list[dict[str, Any]]
    fallback: list[dict[str, Any]]
    explain: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The API's answer; pages render the same data."""
        body: dict[str, Any] = {
            "origin": self.origin,
            "count": len(self.results),
            "results": self.results,
        }
        if self.explain:
            body["excluded"] = self.excluded
        body["fallback"] = self.fallback
        return body


# --- parsing -------------------------------------------------------------------------------


def _one(params: Mapping, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _many(params: Mapping, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        values = params.get(name) or []
        if isinstance(values, str):
            values = [values]
    out: list[str] = []
    for value in values:
        # category=falls,frailty is accepted as well as category=falls&category=frailty.
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def _float(raw: str, name: str, errors: dict, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        errors[name] = "Must be a number."
        return None
    if not math.isfinite(value) or not low <= value <= high:
        errors[name] = f"Must be between {low:g} and {high:g}."
        return None
    return value


def _bool(raw: str | None, name: str, errors: dict) -> bool:
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered not in _FALSE:
        errors[name] = "Must be true or false."
    return False


def _moment(raw: str, errors: dict) -> datetime | None:
    candidates = [raw]
    if " " in raw:
        # An unencoded "+01:00" in a query string arrives as " 01:00".
        candidates.append(raw.replace(" ", "+"))
    for candidate in candidates:
        try:
            value = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if timezone.is_naive(value):
            value = value.replace(tzinfo=LONDON)
        return value
    errors["at"] = "Must be an ISO 8601 date and time, e.g. 2026-03-29T09:30:00+01:00."
    return None


def search_query_from_params(params: Mapping) -> SearchQuery:
    """Parse and check the search's parameters (the API's query string, or a page's form).

    Every problem is reported at once: DomainError (400) whose fields name the parameters.
    """
    errors: dict[str, str] = {}
    lat_raw, lon_raw, postcode = _one(params, "lat"), _one(params, "lon"), _one(params, "postcode")
    latitude = longitude = None
    if lat_raw is not None or lon_raw is not None:
        if lat_raw is None:
            errors["lat"] = "Give lat with lon."
        else:
            latitude = _float(lat_raw, "lat", errors, -90, 90)
        if lon_raw is None:
            errors["lon"] = "Give lon with lat."
        else:
            longitude = _float(lon_raw, "lon", errors, -180, 180)
    elif postcode is None:
        errors["postcode"] = "Give a postcode, or lat and lon."

    radius = DEFAULT_RADIUS_KM
    radius_raw = _one(params, "radius_km")
    if radius_raw is not None:
        radius = _float(radius_raw, "radius_km", errors, 0, MAX_RADIUS_KM)
        if radius is not None and radius <= 0:
            errors["radius_km"] = f"Must be more than 0 and at most {MAX_RADIUS_KM:g}."

    categories = list(dict.fromkeys(_many(params, "category")))
    if categories:
        known = set(Category.objects.filter(code__in=categories).values_list("code", flat=True))
        unknown = [code for code in categories if code not in known]
        if unknown:
            errors["category"] = f"Unknown category: {', '.join(unknown)}."

    age = None
    age_raw = _one(params, "age")
    if age_raw is not None:
        if not age_raw.isdigit() or int(age_raw) > MAX_AGE:
            errors["age"] = f"Must be a whole number of years, 0 to {MAX_AGE}."
        else:
            age = int(age_raw)

    sex = _one(params, "sex")
    if sex is not None:
        sex = sex.lower()
        if sex not in Sex.values:
            errors["sex"] = f"Must be one of {', '.join(Sex.values)}."

    at = timezone.now()
    at_raw = _one(params, "at")
    if at_raw is not None:
        at = _moment(at_raw, errors) or at

    open_only = _bool(_one(params, "open"), "open", errors)
    explain = _bool(_one(params, "explain"), "explain", errors)

    limit = DEFAULT_LIMIT
    limit_raw = _one(params, "limit")
    if limit_raw is not None:
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_LIMIT:
            errors["limit"] = f"Must be a whole number, 1 to {MAX_LIMIT}."
        else:
            limit = int(limit_raw)

    if errors:
        raise DomainError(_first(errors), code="invalid", fields=errors)

    origin_postcode = None
    origin_borough = None
    if latitude is not None and longitude is not None:
        near = postcode_nearest(latitude, longitude)
        if near is not None:
            origin_postcode = near.postcode
            origin_borough = near.borough
        if origin_borough is None:
            origin_borough = borough_nearest(latitude, longitude)
    else:
        place = postcode_locate(postcode or "")
        latitude, longitude = place.latitude, place.longitude
        origin_postcode = place.postcode
        origin_borough = place.borough or borough_nearest(latitude, longitude)

    return SearchQuery(
        latitude=latitude,
        longitude=longitude,
        radius_km=radius,
        categories=categories,
        age=age,
        sex=sex,
        at=at,
        open_only=open_only,
        limit=limit,
        explain=explain,
        origin_postcode=origin_postcode,
        origin_borough=origin_borough,
    )


def _first(errors: dict[str, str]) -> str:
    name, message = next(iter(errors.items()))
    return f"{name}: {message}"


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
    """Index entries within the radius, annotated with what the rules need."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(query.latitude, query.longitude, radius_km)
    entries = ServiceSearchEntry.objects.filter(
        latitude__range=(min_lat, max_lat), longitude__range=(min_lon, max_lon)
    )
    if categories:
        entries = entries.filter(category__code__in=categories)
    live = Q(service__capacity_expires_at__gt=moment.at)
    capacity_rank = Case(
        When(live & Q(service__capacity_status=Capacity.GREEN), then=Value(0)),
        When(live & Q(service__capacity_status=Capacity.AMBER), then=Value(1)),
        When(live & Q(service__capacity_status=Capacity.RED), then=Value(3)),
        default=Value(2),
        output_field=IntegerField(),
    )
    if moment.clock_change:
        uncertain: Any = Value(True)
    else:
        near_days = (moment.day - timedelta(days=1), moment.day + timedelta(days=1))
        condition = Q(
            Exists(
                OpeningException.objects.filter(
                    service_id=OuterRef("service_id"), date__range=near_days
                )
            )
        )
        if moment.bank_holiday_near:
            condition |= ~Q(service__bank_holiday_hours=BankHolidayHours.NORMAL)
        uncertain = ExpressionWrapper(condition, output_field=BooleanField())
    # A LEFT JOIN to the one weekly window holding `at` (merged windows do not overlap), so
    # PostgreSQL reads it once per candidate instead of once per mention.
    open_window = FilteredRelation(
        "service__weekly_windows",
        condition=Q(
            service__weekly_windows__starts__lte=moment.minute,
            service__weekly_windows__ends__gt=moment.minute,
        ),
    )
    return (
        entries.annotate(open_window=open_window)
        .annotate(distance=distance_km_expression(query.latitude, query.longitude))
        .filter(distance__lte=radius_km)
        .annotate(
            closes_minute=F("open_window__ends"),
            capacity_rank=capacity_rank,
            uncertain=uncertain,
        )
    )


def _fast_rows(query: SearchQuery, moment: Moment, candidates: QuerySet) -> list[tuple]:
    """(rank, distance, service_id) of the best certain candidates, judged wholly in SQL."""
    return list(fast_rows_queryset(query, moment, candidates))


def fast_rows_queryset(query: SearchQuery, moment: Moment, candidates: QuerySet) -> QuerySet:
    """The search's one big query (bench/search.py times it as raw SQL too)."""
    covers_any, covers_origin = sql_covers("service_id", query.origin_borough)
    rows = (
        candidates.filter(uncertain=False, service__active=True)
        .filter(sql_age_fits(query.age, "service__"))
        .filter(sql_not_full(moment.at, "service__"))
        .filter(Q(~covers_any) | Q(covers_origin))
    )
    if query.sex and query.sex != Sex.UNKNOWN:
        rows = rows.annotate(sexes_text=Cast("service__sexes", TextField())).filter(
            sql_sexes_text_fits(query.sex)
        )
    soon = moment.minute + CLOSING_SOON_MINUTES
    if query.open_only:
        rows = rows.filter(closes_minute__gte=soon)
    else:
        rows = rows.filter(Q(closes_minute__isnull=True) | Q(closes_minute__gte=soon))
    rows = rows.annotate(
        rank=Case(
            When(closes_minute__isnull=True, then=Value(RANK_CLOSED)),
            default="capacity_rank",
            output_field=IntegerField(),
        )
    )
    rows = rows.values_list("rank", "distance", "service_id").order_by(
        "rank", "distance", "service_id"
    )
    if len(query.categories) != 1:
        rows = rows.distinct()  # a service in two of the categories is one result
    return rows[: query.limit]


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
    "covers_any",
    "covers_origin",
    "service__capacity_slots",
    "service__capacity_expires_at",
    "service__bank_holiday_hours",
)


def _judged_rows(
    query: SearchQuery, moment: Moment, candidates: QuerySet, *, only_uncertain: bool
) -> tuple[list[tuple], list[dict[str, Any]]]:
    """Judge candidates in Python: (rank, distance, id) of those that fit, and the rest with
    their reasons. Hours come from the weekly windows, or exactly for uncertain rows."""
    covers_any, covers_origin = sql_covers("service_id", query.origin_borough)
    rows = candidates.annotate(
        sexes_text=Cast("service__sexes", TextField()),
        covers_any=covers_any,
        covers_origin=covers_origin,
    )
    if only_uncertain:
        rows = rows.filter(uncertain=True)
    rows = list(rows.values_list(*_FACT_COLUMNS))
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


def service_search(*, query: SearchQuery) -> SearchResult:
    """Services near the origin that fit the patient, ranked: open and GREEN, AMBER,
    UNKNOWN, RED, then closed; nearer first; id breaks ties. Closing within 30 minutes
    of `at` is left out. When nothing fits, the two nearest emergency departments
    within 60 km are offered as a fallback."""
    moment = Moment.of(query.at)
    candidates = candidates_queryset(
        query, moment, categories=query.categories, radius_km=query.radius_km
    )
    excluded: list[dict[str, Any]] = []
    if query.explain:
        ranked, excluded = _judged_rows(query, moment, candidates, only_uncertain=False)
    else:
        ranked = [] if moment.clock_change else _fast_rows(query, moment, candidates)
        ranked += _judged_rows(query, moment, candidates, only_uncertain=True)[0]
    ranked.sort()
    ranked = ranked[: query.limit]

    results = _describe(ranked, query.at)
    fallback: list[dict[str, Any]] = []
    if not results:
        fallback = _fallback(query, moment)
    if excluded:
        excluded.sort(key=lambda item: (item["distance_km"], item["id"]))
        excluded = excluded[:EXCLUDED_LIMIT]
        names = dict(
            Service.objects.filter(pk__in=[e["id"] for e in excluded]).values_list("pk", "name")
        )
        excluded = [{"id": e["id"], "name": names.get(e["id"], ""), **e} for e in excluded]
    return SearchResult(
        origin=_origin(query),
        results=results,
        excluded=excluded,
        fallback=fallback,
        explain=query.explain,
    )


def _fallback(query: SearchQuery, moment: Moment) -> list[dict[str, Any]]:
    candidates = candidates_queryset(
        query, moment, categories=[FALLBACK_CATEGORY], radius_km=FALLBACK_RADIUS_KM
    )
    rows = list(
        candidates.filter(service__active=True)
        .values_list("capacity_rank", "distance", "service_id")
        .order_by("distance", "service_id")[:FALLBACK_COUNT]
    )
    return _describe(rows, query.at)


def _origin(query: SearchQuery) -> dict[str, Any]:
    borough = query.origin_borough
    return {
        "lat": query.latitude,
        "lon": query.longitude,
        "postcode": query.origin_postcode,
        "borough": {"code": borough.gss_code, "name": borough.name} if borough else None,
        "ics": borough.ics if borough else None,
        "at": query.at.astimezone(LONDON).isoformat(),
    }


def _describe(ranked: list[tuple], at: datetime) -> list[dict[str, Any]]:
    """The full answer for each (rank, distance, id), in that order; hours read exactly."""
    if not ranked:
        return []
    ids = [row[2] for row in ranked]
    services = {
        s.pk: s
        for s in Service.objects.filter(pk__in=ids)
        .select_related("organisation", "location__borough")
        .prefetch_related(
            "categories",
            "boroughs_covered",
            "opening_spans",
            Prefetch(
                "opening_exceptions",
                queryset=OpeningException.objects.filter(date__range=exceptions_window(at)),
            ),
        )
    }
    return [service_summary(services[row[2]], at, distance_km=row[1]) for row in ranked]


def service_summary(
    service: Service, at: datetime, *, distance_km: float | None = None
) -> dict[str, Any]:
    """One service as the search shows it (expects the prefetches _describe makes)."""
    from directory.hours import service_opening_state

    state = service_opening_state(service, at)
    location = service.location
    return {
        "id": service.pk,
        "name": service.name,
        "public_name": service.public_name,
        "organisation": {"id": service.organisation_id, "name": service.organisation.name},
        "categories": sorted(c.code for c in service.categories.all()),
        "distance_km": round(distance_km, 2) if distance_km is not None else None,
        "open_now": state.open,
        "next_change": state.next_change.astimezone(LONDON).isoformat()
        if state.next_change
        else None,
        "capacity": {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in capacity_live(service, at).items()
        },
        "location": {
            "address": location.address,
            "postcode": location.postcode,
            "lat": location.latitude,
            "lon": location.longitude,
            "borough": location.borough.name,
            "ics": location.borough.ics,
        },
        "phone": service.phone,
        "professional_phone": service.professional_phone,
        "referral_instructions": service.referral_instructions,
        "accepts_referrals_when_closed": service.accepts_referrals_when_closed,
        "eligibility": {
            "min_age": service.min_age,
            "max_age": service.max_age,
            "sexes": service.sexes or [],
            "boroughs_covered": sorted(b.name for b in service.boroughs_covered.all()),
            "inclusion_criteria": service.inclusion_criteria,
            "exclusion_criteria": service.exclusion_criteria,
        },
    }


# --- the de-identified log -------------------------------------------------------------------


def age_band(age: int | None) -> str:
    if age is None:
        return ""
    if age < 18:
        return "0-17"
    if age < 65:
        return "18-64"
    if age < 80:
        return "65-79"
    return "80+"


def search_log_record(*, query: SearchQuery, result: SearchResult, user) -> None:
    """Keep one de-identified row per search: borough and postcode district only, no point,
    no patient beyond an age band."""
    SearchLog.objects.create(
        borough=query.origin_borough,
        postcode_district=postcode_district(query.origin_postcode) if query.origin_postcode else "",
        categories=list(query.categories),
        age_band=age_band(query.age),
        result_count=len(result.results),
        fallback_shown=bool(result.fallback),
        organisation_id=getattr(user, "organisation_id", None),
    )
