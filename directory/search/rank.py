"""The search's ranking rule, in Python and in SQL side by side (they must agree).

Best first:
1. by time (directory/timing.py): open now, then open in time (opening within the
   urgency window, or taking referrals while closed), then closed;
2. RED ("not taking referrals") after every other capacity of its time group;
3. by distance band (settings.SEARCH_DISTANCE_BAND_M, default 3 km: 0-3 km, 3-6 km...):
   a nearer band comes first;
4. within a band by capacity: GREEN, AMBER, UNKNOWN (none or expired);
5. nearer first; the service id breaks ties.
Closed services rank by distance alone. With the band at 0, capacity outranks distance
across the whole radius (the old rule).

Why bands: across London a few kilometres is a few minutes' drive either way, so within a
band the partner's own word on capacity is the better guide; beyond it, distance is
time on the road for a patient who has been waiting, and a GREEN service 9 km away
should not push a 1.2 km AMBER one down to seventh place.

The rank is one number (group, RED, band, capacity packed in decimal places) so that the
SQL's ORDER BY rank, distance, id and Python's sort of (rank, distance, id) agree.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db.models import Case, Expression, F, FloatField, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Floor, Least

from directory.eligibility import sql_capacity_is_live
from directory.models import Capacity
from directory.timing import Group

GREEN, AMBER, UNKNOWN, RED = 0, 1, 2, 3  # capacity ranks; UNKNOWN: none, or expired
MAX_BAND = 9999
GROUP_STEP = 1_000_000
RED_STEP = 100_000
BAND_STEP = 10


class Ranked(NamedTuple):
    """A fitting service as the search's stages pass it on (sql, judged ->
    results); sorting these sorts best first."""

    rank: int
    distance: float  # km
    service_id: int


def _band_km() -> float:
    return settings.SEARCH_DISTANCE_BAND_M / 1000


def band_km() -> float:
    """The width of a distance band in km (0: no bands)."""
    return _band_km()


def in_first_band(rank_value: int) -> bool:
    """An open service in the nearest band, not RED: every service beyond the first band
    ranks after it, however it is judged."""
    return rank_value < Group.OPEN * GROUP_STEP + BAND_STEP


def rank(group: int, capacity_rank: int, distance_km: float) -> int:
    """The rank of one fitting service (lower is better)."""
    if group == Group.CLOSED:
        return Group.CLOSED * GROUP_STEP
    band_km = _band_km()
    band = min(MAX_BAND, math.floor(distance_km / band_km)) if band_km > 0 else 0
    red = RED_STEP if capacity_rank == RED else 0
    return group * GROUP_STEP + red + band * BAND_STEP + capacity_rank


def _capacity_case(at: datetime, prefix: str, red: int) -> Case:
    live = sql_capacity_is_live(at, prefix)
    return Case(
        When(live & Q(**{f"{prefix}capacity_status": Capacity.GREEN}), then=Value(GREEN)),
        When(live & Q(**{f"{prefix}capacity_status": Capacity.AMBER}), then=Value(AMBER)),
        When(live & Q(**{f"{prefix}capacity_status": Capacity.RED}), then=Value(red)),
        default=Value(UNKNOWN),
        output_field=IntegerField(),
    )


def capacity_rank_case(at: datetime, prefix: str = "") -> Case:
    """The capacity rank in SQL; a status past its expiry reads UNKNOWN."""
    return _capacity_case(at, prefix, RED)


def sql_rank(group: int, at: datetime, distance: str = "distance", prefix: str = "") -> Expression:
    """rank() as an expression over a row's capacity and its distance annotation."""
    if group == Group.CLOSED:
        return Value(Group.CLOSED * GROUP_STEP, output_field=IntegerField())
    # RED carries its RED_STEP inside the capacity term, as rank() adds it.
    capacity = _capacity_case(at, prefix, RED_STEP + RED)
    expression: Expression = Value(group * GROUP_STEP, output_field=IntegerField()) + capacity
    band_km = _band_km()
    if band_km > 0:
        band = Least(
            Floor(Cast(F(distance), FloatField()) / Value(band_km)), Value(float(MAX_BAND))
        )
        expression = Cast(expression + band * Value(BAND_STEP), IntegerField())
    return expression
