"""The search's parameters: parsed and checked once, for the API and the pages alike.

directory.search (the package) exports what is public here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from config.errors import DomainError
from directory import reference
from directory.hours import LONDON
from directory.models import Borough, Sex
from directory.postcodes import (
    PRECISION_COORDINATES,
    PRECISION_POSTCODE,
    place_at,
    postcode_locate,
)
from directory.timing import URGENCY_WITHIN_MINUTES, WITHIN_MINUTES

DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_AGE = 129
MIN_AT_YEAR = 2000
MAX_AT_YEAR = 2100
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
    # The urgency window in minutes (directory/timing.py): 0 is "open now".
    within: int = 0
    # The postcode given (None for a coordinate).
    origin_postcode: str | None = None
    # Judged from the postcode, or for a coordinate from the point itself; None outside London.
    origin_borough: Borough | None = None
    # "postcode", "sector" or "district" (the centre of that area stood in: approximate),
    # or "coordinates".
    origin_precision: str = PRECISION_POSTCODE
    # The sector or district whose centre stood in, or for a coordinate the nearest one.
    origin_area: str | None = None
    outside_london: bool = False


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


def _whole(raw: str) -> bool:
    # ASCII only: "²".isdigit() is true, and int("²") raises.
    return raw.isascii() and raw.isdigit() and len(raw) <= 6


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
        # Years near 1 or 9999 overflow once moved to UTC or a week on; none is a real search.
        if not MIN_AT_YEAR <= value.year <= MAX_AT_YEAR:
            errors["at"] = f"Must be between the years {MIN_AT_YEAR} and {MAX_AT_YEAR}."
            return None
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
        known = reference.category_ids(categories)
        unknown = [code for code in categories if code not in known]
        if unknown:
            errors["category"] = f"Unknown category: {', '.join(unknown)}."

    age = None
    age_raw = _one(params, "age")
    if age_raw is not None:
        if not _whole(age_raw) or int(age_raw) > MAX_AGE:
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

    within = 0
    within_raw = _one(params, "within")
    if within_raw is not None:
        # The referral's urgency names (within_4h) are taken as well as the short ones (4h).
        minutes = WITHIN_MINUTES.get(within_raw.lower(), URGENCY_WITHIN_MINUTES.get(within_raw))
        if minutes is None:
            errors["within"] = f"Must be one of {', '.join(WITHIN_MINUTES)}."
        else:
            within = minutes

    open_only = _bool(_one(params, "open"), "open", errors)
    explain = _bool(_one(params, "explain"), "explain", errors)

    limit = DEFAULT_LIMIT
    limit_raw = _one(params, "limit")
    if limit_raw is not None:
        if not _whole(limit_raw) or not 1 <= int(limit_raw) <= MAX_LIMIT:
            errors["limit"] = f"Must be a whole number, 1 to {MAX_LIMIT}."
        else:
            limit = int(limit_raw)

    if errors:
        raise DomainError(_first(errors), code="invalid", fields=errors)

    if latitude is not None and longitude is not None:
        # The point speaks for itself: its borough is that of the nearest postcode area's
        # centre, never of some postcode that happens to be in the table.
        point = place_at(latitude, longitude)
        origin = {
            "origin_postcode": None,
            "origin_borough": point.borough,
            "origin_precision": PRECISION_COORDINATES,
            "origin_area": point.area,
            "outside_london": point.outside_london,
        }
    else:
        place = postcode_locate(postcode or "")
        latitude, longitude = place.latitude, place.longitude
        origin = {
            "origin_postcode": place.postcode,
            "origin_borough": place.borough,
            "origin_precision": place.precision,
            "origin_area": place.area,
            "outside_london": place.outside_london,
        }

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
        within=within,
        **origin,
    )


def _first(errors: dict[str, str]) -> str:
    name, message = next(iter(errors.items()))
    return f"{name}: {message}"
