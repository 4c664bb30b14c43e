"""UK postcodes: validate and normalise, and find where one is.

Where comes from the postcode table (filled by `manage.py import_postcodes` from the ONS
Postcode Directory). A network geocoder is used only when settings.GEOCODER names one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings

from config.errors import DomainError
from directory import reference
from directory.geo import bounding_box, distance_km_sql, great_circle_km
from directory.models import Borough, Postcode

logger = logging.getLogger(__name__)

# The UK format (BS 7666), plus the special GIR 0AA. Outward code, space, inward code.
_POSTCODE = re.compile(
    r"^(GIR ?0AA"
    r"|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_postcode(raw: str) -> str | None:
    """'sw1a1aa ' -> 'SW1A 1AA'; None if it is not a UK postcode."""
    compact = re.sub(r"\s+", "", (raw or "").upper())
    if not 5 <= len(compact) <= 7 or not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_district(postcode: str) -> str:
    """The outward code of a normalised postcode: 'SW1A 1AA' -> 'SW1A'."""
    return postcode.split(" ", 1)[0]


# --- where a postcode is (H1) ------------------------------------------------------------


@dataclass(frozen=True)
class PostcodeLocation:
    postcode: str
    latitude: float
    longitude: float
    borough: Borough | None


def postcode_locate(postcode: str) -> PostcodeLocation:
    """Where a postcode is, from the postcode table (or the geocoder, if one is configured).

    A malformed or unknown postcode is a DomainError (400) naming the field "postcode".
    """
    normalised = normalise_postcode(postcode)
    if normalised is None:
        raise DomainError(
            f"{postcode!r} is not a UK postcode.",
            code="invalid_postcode",
            fields={"postcode": "Not a UK postcode."},
        )
    row = Postcode.objects.select_related("borough").filter(postcode=normalised).first()
    if row is not None:
        return PostcodeLocation(normalised, row.latitude, row.longitude, row.borough)
    if settings.GEOCODER:
        found = _geocode(normalised)
        if found is not None:
            return found
    raise DomainError(
        f"The postcode {normalised} is not known.",
        code="unknown_postcode",
        fields={"postcode": "Unknown postcode."},
    )


def _geocode(postcode: str) -> PostcodeLocation | None:
    """Ask the configured geopy geocoder; any failure reads as "not found"."""
    from geopy.exc import GeopyError
    from geopy.geocoders import get_geocoder_for_service

    try:
        geocoder = get_geocoder_for_service(settings.GEOCODER)(
            user_agent=settings.GEOCODER_USER_AGENT, timeout=settings.OUTBOUND_TIMEOUT_SECONDS
        )
        place = geocoder.geocode(f"{postcode}, United Kingdom")
    except (GeopyError, ValueError):
        logger.warning("geocoder failed for a postcode district %s", postcode_district(postcode))
        return None
    if place is None:
        return None
    return PostcodeLocation(
        postcode, place.latitude, place.longitude, borough_nearest(place.latitude, place.longitude)
    )


# How far a coordinate may be from a known postcode for us to say it is "in" that postcode.
NEAREST_POSTCODE_KM = 1.0


def postcode_nearest(latitude: float, longitude: float) -> Postcode | None:
    """The postcode-table row nearest a coordinate, if one lies within ~1 km."""
    # One query: the box's rows come from the (latitude, longitude) index and the
    # database keeps only the nearest (H8: this runs on every search by coordinates).
    min_lat, max_lat, min_lon, max_lon = bounding_box(latitude, longitude, NEAREST_POSTCODE_KM)
    return (
        Postcode.objects.filter(
            latitude__range=(min_lat, max_lat), longitude__range=(min_lon, max_lon)
        )
        .annotate(distance=distance_km_sql(Postcode, latitude, longitude))
        .filter(distance__lte=NEAREST_POSTCODE_KM)
        .only("postcode", "latitude", "longitude", "borough_id")
        .order_by("distance", "postcode")
        .first()
    )


def borough_nearest(latitude: float, longitude: float) -> Borough | None:
    """The borough whose (approximate) centre is nearest: a last-resort guess."""
    return min(
        reference.boroughs(),
        key=lambda b: great_circle_km(latitude, longitude, b.centre_latitude, b.centre_longitude),
        default=None,
    )


def borough_get(gss_code: str | None) -> Borough | None:
    """A borough by its code, from the process's copy (no query)."""
    return next((b for b in reference.boroughs() if b.gss_code == gss_code), None)
