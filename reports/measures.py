"""What a referral report measures: counts by outcome and response times (median, p90).

Percentiles run in SQL on PostgreSQL (percentile_cont) and in Python elsewhere with the
same linear interpolation, so both give the same figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from django.db.models import Aggregate, Count, FloatField, Func, Q, QuerySet

from referrals.models import OPEN, Status


class MinutesBetween(Func):
    """Minutes from the second datetime to the first, as a float, on either database."""

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):
        # julianday() reads the ISO text Django stores in SQLite; days -> minutes.
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 1440.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0)::float8",  # not numeric
            arg_joiner=" - ",
            **extra,
        )


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as percentile_cont does."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


EVER_ACCEPTED = Q(status__in=[Status.ACCEPTED, Status.COMPLETED]) | Q(
    status=Status.CANCELLED, answered_at__isnull=False
)

# (name, duration expression, which referrals it applies to)
_DURATIONS = (
    (
        "acknowledge",
        MinutesBetween("acknowledged_at", "created_at"),
        Q(acknowledged_at__isnull=False),
    ),
    (
        "accept",
        MinutesBetween("answered_at", "created_at"),
        EVER_ACCEPTED & Q(answered_at__isnull=False),
    ),
)
DURATION_COLUMNS = [
    f"{name}_{stat}_minutes" for name, _, _ in _DURATIONS for stat in ("median", "p90")
]

COUNTS = {
    "referrals": Count("pk"),
    "open": Count("pk", filter=OPEN),
    "accepted": Count("pk", filter=Q(status=Status.ACCEPTED)),
    "completed": Count("pk", filter=Q(status=Status.COMPLETED)),
    "declined": Count("pk", filter=Q(status=Status.DECLINED)),
    "cancelled": Count("pk", filter=Q(status=Status.CANCELLED)),
    "expired": Count("pk", filter=Q(status=Status.EXPIRED)),
    "ever_accepted": Count("pk", filter=EVER_ACCEPTED),
}
COUNT_COLUMNS = [name for name in COUNTS if name != "ever_accepted"]


def percentile_annotations() -> dict[str, Aggregate]:
    return {
        f"{name}_{stat}_minutes": PercentileCont(expression, fraction, filter=applies)
        for name, expression, applies in _DURATIONS
        for stat, fraction in (("median", 0.5), ("p90", 0.9))
    }


def percentiles_in_python(qs: QuerySet) -> dict[Any, dict[str, float | None]]:
    """Per key: median and p90 of each duration, over a values_list of the filtered set."""
    found: dict[Any, dict[str, float | None]] = defaultdict(dict)
    for name, expression, applies in _DURATIONS:
        by_key: dict[Any, list[float]] = defaultdict(list)
        for key, minutes in qs.filter(applies).values_list("key", expression).iterator():
            by_key[key].append(minutes)
        for key, values in by_key.items():
            values.sort()
            found[key][f"{name}_median_minutes"] = percentile(values, 0.5)
            found[key][f"{name}_p90_minutes"] = percentile(values, 0.9)
    return found
