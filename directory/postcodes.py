"""UK postcodes: validate and normalise, and find where one is.

Where comes from the postcode table (filled by `manage.py import_postcodes` from the ONS
Postcode Directory), else from the centre of the postcode's sector or district (the
PostcodeArea table, loaded by migration from OS Code-Point Open: every London sector).
A network geocoder is used only when settings.GEOCODER names one.
"""

from __future__ import annotations

import logging
import re
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from config.errors import DomainError
from directory import reference
from directory.geo import bounding_box, great_circle_km
from directory.models import Borough, Postcode, PostcodeArea

logger = logging.getLogger(__name__)

# The UK format (BS 7666), plus the special GIR 0AA. Outward code, space, inward code.
_OUTWARD_CODE = r"[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
# And the NHS's pseudo-postcodes, ZZ99 then an inward code (ZZ99 3VZ: no fixed abode), which
# patient records carry; they locate nowhere, so a search from one is told it is unknown.
_POSTCODE = re.compile(
    rf"^(GIR ?0AA|ZZ99 ?[0-9][A-Z]{{2}}|{_OUTWARD_CODE} ?[0-9][ABD-HJLNP-UW-Z]{{2}})$"
)


def normalise_postcode(raw: str) -> str | None:
    """'sw1a1aa ' -> 'SW1A 1AA'; None if it is not a UK postcode."""
    compact = re.sub(r"\s+", "", (raw or "").upper())
    if not 5 <= len(compact) <= 7 or not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


# The outward code alone ("SE1", "sw1a"): half a postcode, as people type when unsure.
_OUTWARD = re.compile(rf"^{_OUTWARD_CODE}$")


def outward_code_only(raw: str) -> str | None:
    """'se1 ' -> 'SE1' when only a postcode's first half was typed; else None."""
    compact = re.sub(r"\s+", "", (raw or "").upper())
    return compact if _OUTWARD.match(compact) else None


def postcode_district(postcode: str) -> str:
    """The outward code of a normalised postcode: 'SW1A 1AA' -> 'SW1A'."""
    return postcode.split(" ", 1)[0]


# --- where a postcode is (H1) ------------------------------------------------------------

# How exact a search's origin is: a postcode's own place, an area's centre standing in for
# it (PostcodeArea.Kind: "sector", "district"), or a point given as coordinates.
PRECISION_POSTCODE = "postcode"
PRECISION_COORDINATES = "coordinates"


def postcode_sector(postcode: str) -> str:
    """The sector of a normalised postcode: 'SE1 7EH' -> 'SE1 7'."""
    return postcode[:-2]


@dataclass(frozen=True)
class PostcodeLocation:
    postcode: str
    latitude: float
    longitude: float
    borough: Borough | None
    # "postcode" when the postcode table has it; "sector" or "district" when the place is
    # that area's centre (area names it), which is approximate.
    precision: str = PRECISION_POSTCODE
    area: str | None = None
    outside_london: bool = False

    @property
    def approximate(self) -> bool:
        return self.precision != PRECISION_POSTCODE


@dataclass(frozen=True)
class PointPlace:
    """What we can say of a point: the postcode area whose centre is nearest, its borough."""

    area: str | None
    borough: Borough | None

    @property
    def outside_london(self) -> bool:
        return self.borough is None


# Where a postcode is, kept per process: crews search and refer from the same few
# postcodes again and again, and the tables behind it are reference data. An entry lives
# POSTCODE_CACHE_SECONDS (an import in another process shows up within that), and this
# process drops them all when a Postcode, PostcodeArea or Borough row is saved or deleted
# here, and after migrate or flush. Unknown postcodes are not kept.
POSTCODE_CACHE_SECONDS = 300.0
POSTCODE_CACHE_SIZE = 20_000
_located: dict[str, tuple[float, PostcodeLocation]] = {}


# The postcode areas' centres, by kind, each kind's sorted by latitude: place_at answers
# from them without a query (every coordinate search asks it). Kept and forgotten with
# the postcodes above.
_Area = tuple[float, float, str, str | None]  # latitude, longitude, code, borough
_areas: tuple[float, dict[str, tuple[list[float], list[_Area]]]] | None = None


def postcode_cache_clear(**_kwargs) -> None:
    global _areas
    _located.clear()
    _areas = None


@receiver(post_migrate, dispatch_uid="directory.postcodes.migrate")
@receiver(post_save, sender=Postcode, dispatch_uid="directory.postcodes.postcode_save")
@receiver(post_delete, sender=Postcode, dispatch_uid="directory.postcodes.postcode_delete")
@receiver(post_save, sender=PostcodeArea, dispatch_uid="directory.postcodes.area_save")
@receiver(post_delete, sender=PostcodeArea, dispatch_uid="directory.postcodes.area_delete")
@receiver(post_save, sender=Borough, dispatch_uid="directory.postcodes.borough_save")
@receiver(post_delete, sender=Borough, dispatch_uid="directory.postcodes.borough_delete")
def _on_change(**_kwargs) -> None:
    postcode_cache_clear()


def postcode_locate(postcode: str) -> PostcodeLocation:
    """Where a postcode is: its own row in the postcode table, else the centre of its sector,
    else of its district (PostcodeArea: every London sector, every British district), else
    the geocoder if one is configured. Offline unless GEOCODER is set; at most two indexed
    primary-key queries, and none when this process found the postcode lately.

    A malformed postcode, or one whose district is unknown, is a DomainError (400) naming
    the field "postcode".
    """
    normalised = normalise_postcode(postcode)
    outward = outward_code_only(postcode) if normalised is None else None
    if outward:
        # Half a postcode is how people type when unsure: say what is missing.
        message = f"Enter the whole postcode, not just {outward} (for example SE1 7EH)."
        raise DomainError(message, code="invalid_postcode", fields={"postcode": message})
    if normalised is None:
        raise DomainError(
            f"{postcode!r} is not a UK postcode.",
            code="invalid_postcode",
            fields={"postcode": "Not a UK postcode."},
        )
    now = time.monotonic()
    kept = _located.get(normalised)
    if kept is not None and now - kept[0] < POSTCODE_CACHE_SECONDS:
        return kept[1]
    found = _postcode_find(normalised)
    if len(_located) >= POSTCODE_CACHE_SIZE:
        _located.clear()
    _located[normalised] = (now, found)
    return found


def _postcode_find(normalised: str) -> PostcodeLocation:
    """postcode_locate without the process's copy."""
    row = Postcode.objects.select_related("borough").filter(postcode=normalised).first()
    if row is not None:
        borough = row.borough
        if borough is None:
            # A row without a London authority (an import of the whole country, or one
            # without the authority column): its area says whether it is in London.
            area = _area_of(normalised)
            borough = area.borough if area else place_at(row.latitude, row.longitude).borough
        return PostcodeLocation(
            normalised, row.latitude, row.longitude, borough, outside_london=borough is None
        )
    area = _area_of(normalised)
    if area is not None:
        return PostcodeLocation(
            normalised,
            area.latitude,
            area.longitude,
            area.borough,
            precision=area.kind,
            area=area.code,
            outside_london=area.borough_id is None,
        )
    if settings.GEOCODER:
        found = _geocode(normalised)
        if found is not None:
            return found
    raise DomainError(
        f"The postcode {normalised} is not known.",
        code="unknown_postcode",
        fields={"postcode": "Unknown postcode."},
    )


def _area_of(postcode: str) -> PostcodeArea | None:
    """The postcode's sector if we have it, else its district (one query on the key)."""
    codes = [postcode_sector(postcode), postcode_district(postcode)]
    areas = {
        a.code: a for a in PostcodeArea.objects.select_related("borough").filter(code__in=codes)
    }
    return next((areas[code] for code in codes if code in areas), None)


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
    borough = place_at(place.latitude, place.longitude).borough
    return PostcodeLocation(
        postcode, place.latitude, place.longitude, borough, outside_london=borough is None
    )


# A sector centre lies within a few km of any point in and around London (the areas table
# holds every sector within 40 km of Charing Cross); elsewhere only districts are held.
SECTOR_SEARCH_KM = (3.0, 10.0)
DISTRICT_SEARCH_KM = (25.0, 80.0)


def place_at(latitude: float, longitude: float) -> PointPlace:
    """The postcode area whose centre is nearest a point, and so the point's borough (None:
    outside London). Nearest-centre is approximate within a few hundred metres of a
    borough's edge; it never leans on a far postcode."""
    for kind, radii in (
        (PostcodeArea.Kind.SECTOR, SECTOR_SEARCH_KM),
        (PostcodeArea.Kind.DISTRICT, DISTRICT_SEARCH_KM),
    ):
        for radius in radii:
            area = _area_nearest(latitude, longitude, kind, radius)
            if area is not None:
                return PointPlace(area[0], borough_get(area[1]))
    return PointPlace(None, None)


def _areas_by_kind() -> dict[str, tuple[list[float], list[_Area]]]:
    global _areas
    now = time.monotonic()
    if _areas is None or now - _areas[0] >= POSTCODE_CACHE_SECONDS:
        by_kind: dict[str, tuple[list[float], list[_Area]]] = {}
        for kind, *area in sorted(
            PostcodeArea.objects.values_list("kind", "latitude", "longitude", "code", "borough_id")
        ):
            latitudes, areas = by_kind.setdefault(kind, ([], []))
            latitudes.append(area[0])
            areas.append(tuple(area))
        _areas = (now, by_kind)
    return _areas[1]


def _area_nearest(
    latitude: float, longitude: float, kind: str, radius_km: float
) -> tuple[str, str | None] | None:
    """(code, borough) of the area of this kind whose centre is nearest, within radius_km;
    the lower code breaks a tie."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(latitude, longitude, radius_km)
    latitudes, areas = _areas_by_kind().get(kind, ([], []))
    best: tuple[float, str, str | None] | None = None
    for lat, lon, code, borough_id in areas[
        bisect_left(latitudes, min_lat) : bisect_right(latitudes, max_lat)
    ]:
        if not min_lon <= lon <= max_lon:
            continue
        km = great_circle_km(latitude, longitude, lat, lon)
        if km <= radius_km and (best is None or (km, code) < best[:2]):
            best = (km, code, borough_id)
    return best[1:] if best is not None else None


def borough_get(gss_code: str | None) -> Borough | None:
    """A borough by its code, from the process's copy (no query)."""
    return next((b for b in reference.boroughs() if b.gss_code == gss_code), None)
