"""The time rule: can a service take a patient who must be seen within a window?

One rule for the search (API and page), its explain output and referral creation, in its
two forms side by side: in Python over exact hours (directory/hours.py: exceptions, bank
holidays, clock changes) and in SQL over the precomputed weekly windows (the search's
fast path, for candidates with none of those near). tests/directory/test_search_time.py
checks the two agree.

A service fits in time when, with `stay` = STAY_MINUTES:
- it is open now and stays open at least `stay` longer (group OPEN); or
- it opens within the urgency window and then stays open at least `stay` (group LATER:
  the answer says when it opens), or it takes referrals while closed (also LATER: the
  referral can be sent now, the patient is seen when it opens).
Otherwise a closed service is in group CLOSED (listed last unless the crew asked for
open services only, and refused for referrals); one open but closing within `stay` with
no reopening in the window is left out ("closing_soon").
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection

from directory.models import WeeklyWindow

# A service closing sooner than this after the crew refers cannot take the patient: the
# NHS Directory of Services leaves such services out too.
STAY_MINUTES = 30
STAY = timedelta(minutes=STAY_MINUTES)

# The search's `within` parameter (default "now") and the referral's urgency, in minutes.
WITHIN_MINUTES = {"now": 0, "1h": 60, "4h": 240, "24h": 1440}
URGENCY_WITHIN_MINUTES = {"within_1h": 60, "within_4h": 240, "within_24h": 1440}
MAX_WITHIN_MINUTES = max(WITHIN_MINUTES.values())

WEEK = WeeklyWindow.MINUTES_PER_WEEK


class Group:
    """Where a fitting service ranks by time: open now, open in time, then closed."""

    OPEN = 0
    LATER = 1
    CLOSED = 2


# --- the rule, in Python --------------------------------------------------------------


def time_group(
    *, open_now: bool, usable_now: bool, usable_in_window: bool, accepts_when_closed: bool
) -> int | None:
    """The service's Group, or None for "open, but closing too soon" (always left out).

    usable_now: open now for at least STAY more; usable_in_window: that holds from some
    instant within the window (hours.usable_from is not None).
    """
    if usable_now:
        return Group.OPEN
    if usable_in_window or accepts_when_closed:
        return Group.LATER
    if open_now:
        return None
    return Group.CLOSED


# --- the same rule, in SQL over the weekly windows ----------------------------------------
#
# Windows are London wall-clock minutes of the week (Monday 00:00 = 0), merged, so at most
# one holds a minute. The search marks a candidate uncertain (and judges it in Python)
# when an exception, a bank holiday or a clock change falls in the days the window spans.


def _probe(service_id_sql: str, condition: str) -> str:
    quote = connection.ops.quote_name
    table = quote(WeeklyWindow._meta.db_table)
    # Only quoted identifiers are pasted in; every value is a parameter.
    return (
        f"EXISTS (SELECT 1 FROM {table} w WHERE w.{quote('service_id')} = {service_id_sql}"  # noqa: S608
        f" AND {condition})"
    )


def sql_open_now(service_id_sql: str, minute: int) -> tuple[str, list]:
    """A window holds `minute`."""
    starts, ends = connection.ops.quote_name("starts"), connection.ops.quote_name("ends")
    return _probe(service_id_sql, f"w.{starts} <= %s AND w.{ends} > %s"), [minute, minute]


def sql_usable_now(service_id_sql: str, minute: int) -> tuple[str, list]:
    """A window holds `minute` and ends STAY or more later (merged windows do not overlap)."""
    starts, ends = connection.ops.quote_name("starts"), connection.ops.quote_name("ends")
    return _probe(service_id_sql, f"w.{starts} <= %s AND w.{ends} >= %s"), [
        minute,
        minute + STAY_MINUTES,
    ]


def sql_usable_within(service_id_sql: str, minute: int, within: int) -> tuple[str, list]:
    """Some window, starting by minute + within, is open STAY or more from
    max(its start, minute). A window early next week counts when the urgency window runs
    past Sunday midnight (its minutes shifted by a week)."""
    starts, ends = connection.ops.quote_name("starts"), connection.ops.quote_name("ends")
    this_week = f"(w.{starts} <= %s AND w.{ends} >= %s AND w.{ends} - w.{starts} >= %s)"
    params: list = [minute + within, minute + STAY_MINUTES, STAY_MINUTES]
    condition = this_week
    if minute + within >= WEEK:
        condition = f"({this_week} OR (w.{starts} <= %s AND w.{ends} - w.{starts} >= %s))"
        params += [minute + within - WEEK, STAY_MINUTES]
    return _probe(service_id_sql, condition), params


def sql_time_group(
    service_id_sql: str, accepts_sql: str, minute: int, within: int, group: int
) -> tuple[str, list]:
    """The condition "time_group(...) == group" for one candidate row."""
    usable_now, now_params = sql_usable_now(service_id_sql, minute)
    usable_within, within_params = sql_usable_within(service_id_sql, minute, within)
    if group == Group.OPEN:
        return usable_now, now_params
    if group == Group.LATER:
        return (
            f"NOT {usable_now} AND ({accepts_sql} OR {usable_within})",
            [*now_params, *within_params],
        )
    open_now, open_params = sql_open_now(service_id_sql, minute)
    return (
        f"NOT {open_now} AND NOT {accepts_sql} AND NOT {usable_within}",
        [*open_params, *within_params],
    )
