"""Opening hours in Europe/London: weekly spans, dated exceptions and England bank holidays.

Spans are wall-clock times. Each day's spans become real instants (so a clock-change day
is 23 or 25 hours long), adjacent spans merge (so an overnight service open 20:00-00:00
and 00:00-08:00 closes at 08:00, not midnight), and the answer is whether the service is
open at a moment and when that next changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
# How far ahead next_change looks. A service with no opening within it reads "closed".
HORIZON_DAYS = 8
SUNDAY = 6


@dataclass(frozen=True)
class DayHours:
    """An exception for one date: closed, or open opens-closes instead of the weekly spans."""

    closed: bool
    opens: time | None = None
    closes: time | None = None


@dataclass(frozen=True)
class OpenState:
    open: bool
    # When the service next closes (if open) or opens (if closed); None if it does not
    # change within the horizon (open around the clock, or closed for the foreseeable).
    next_change: datetime | None

    def closes_within(self, at: datetime, minutes: int) -> bool:
        return (
            self.open
            and self.next_change is not None
            and self.next_change - at < timedelta(minutes=minutes)
        )


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def _instant(day: date, wall: time) -> datetime:
    # zoneinfo resolves a wall time in the spring gap forwards and an ambiguous autumn
    # time to its first occurrence, which is what a person reading the sign would expect.
    return datetime.combine(day, wall, tzinfo=LONDON).astimezone(UTC)


def _day_spans(
    day: date,
    weekly: Mapping[int, list[tuple[time, time]]],
    exceptions: Mapping[date, DayHours],
    bank_holiday_hours: str,
) -> list[tuple[time, time]]:
    if day in exceptions:
        exception = exceptions[day]
        if exception.closed or exception.opens is None or exception.closes is None:
            return []
        return [(exception.opens, exception.closes)]
    if is_bank_holiday(day):
        if bank_holiday_hours == "closed":
            return []
        if bank_holiday_hours == "sunday":
            return weekly.get(SUNDAY, [])
    return weekly.get(day.weekday(), [])


def open_intervals(
    spans: Iterable[tuple[int, time, time]],
    exceptions: Mapping[date, DayHours],
    bank_holiday_hours: str,
    start_day: date,
    days: int,
) -> list[tuple[datetime, datetime]]:
    """Merged open intervals (UTC) for spans starting on start_day .. start_day + days - 1."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in spans:
        weekly.setdefault(weekday, []).append((opens, closes))

    intervals = []
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        for opens, closes in _day_spans(day, weekly, exceptions, bank_holiday_hours):
            end_day = day if closes > opens else day + timedelta(days=1)
            intervals.append((_instant(day, opens), _instant(end_day, closes)))
    intervals.sort()

    merged: list[tuple[datetime, datetime]] = []
    for begin, end in intervals:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def intervals_for_day(
    spans: Iterable[tuple[int, time, time]],
    exceptions: Mapping[date, DayHours],
    bank_holiday_hours: str,
    day: date,
) -> tuple[list[tuple[datetime, datetime]], datetime]:
    """The merged open intervals that a reading at any moment of `day` (London) needs, and
    the end of the horizon they cover. The same for every moment of the day, so a caller
    reading many moments may keep them (time_fit_in reads one moment from them)."""
    # Start a day early: yesterday's overnight span may still be running.
    first_day = day - timedelta(days=1)
    intervals = open_intervals(spans, exceptions, bank_holiday_hours, first_day, HORIZON_DAYS + 1)
    return intervals, _instant(first_day + timedelta(days=HORIZON_DAYS + 1), time(0))


def _intervals_around(
    spans: Iterable[tuple[int, time, time]],
    exceptions: Mapping[date, DayHours],
    bank_holiday_hours: str,
    at: datetime,
) -> tuple[list[tuple[datetime, datetime]], datetime]:
    return intervals_for_day(spans, exceptions, bank_holiday_hours, at.astimezone(LONDON).date())


def _state(intervals: list[tuple[datetime, datetime]], horizon_end: datetime, at: datetime):
    at_utc = at.astimezone(UTC)
    for begin, end in intervals:
        if begin <= at_utc < end:
            # An interval reaching the horizon is open around the clock as far as we look.
            return OpenState(True, None if end >= horizon_end else end.astimezone(LONDON))
        if begin > at_utc:
            return OpenState(False, begin.astimezone(LONDON))
    return OpenState(False, None)


def opening_state(
    spans: Iterable[tuple[int, time, time]],
    exceptions: Mapping[date, DayHours],
    bank_holiday_hours: str,
    at: datetime,
) -> OpenState:
    """Whether a service with these hours is open at `at`, and when that next changes."""
    return _state(*_intervals_around(spans, exceptions, bank_holiday_hours, at), at)


def usable_from(
    intervals: Iterable[tuple[datetime, datetime]],
    at: datetime,
    within: timedelta,
    stay: timedelta,
) -> datetime | None:
    """The first instant in [at, at + within] from which the service stays open for `stay`.

    `at` itself when it is open now with `stay` to go; the start of a later opening when
    that comes within the window and lasts long enough; None when neither. Instants, not
    wall clocks: a window across a clock change is as long as it says.
    """
    at_utc = at.astimezone(UTC)
    latest = at_utc + within
    for begin, end in intervals:
        start = max(begin, at_utc)
        if start > latest:
            return None
        if end - start >= stay:
            return start.astimezone(LONDON)
    return None


@dataclass(frozen=True)
class TimeFit:
    """How a service's hours meet a patient who must be seen within a window."""

    state: OpenState
    # From when, within the window, it can take the patient (see usable_from); None: not in time.
    takes_from: datetime | None


def time_fit(
    spans: Iterable[tuple[int, time, time]],
    exceptions: Mapping[date, DayHours],
    bank_holiday_hours: str,
    at: datetime,
    *,
    within: timedelta,
    stay: timedelta,
) -> TimeFit:
    """opening_state and usable_from together, from one reading of the hours."""
    intervals, horizon_end = _intervals_around(spans, exceptions, bank_holiday_hours, at)
    return time_fit_in(intervals, horizon_end, at, within=within, stay=stay)


def time_fit_in(
    intervals: list[tuple[datetime, datetime]],
    horizon_end: datetime,
    at: datetime,
    *,
    within: timedelta,
    stay: timedelta,
) -> TimeFit:
    """time_fit from the intervals intervals_for_day gave for `at`'s day (London)."""
    return TimeFit(_state(intervals, horizon_end, at), usable_from(intervals, at, within, stay))


def service_opening_state(service, at: datetime) -> OpenState:
    """opening_state for a Service; uses prefetched opening_spans/opening_exceptions if present."""
    spans = [(s.weekday, s.opens, s.closes) for s in service.opening_spans.all()]
    exceptions = {
        e.date: DayHours(e.closed, e.opens, e.closes) for e in service.opening_exceptions.all()
    }
    return opening_state(spans, exceptions, service.bank_holiday_hours, at)


def service_time_fit(service, at: datetime, *, within: timedelta, stay: timedelta) -> TimeFit:
    """time_fit for a Service; uses prefetched opening_spans/opening_exceptions if present."""
    spans = [(s.weekday, s.opens, s.closes) for s in service.opening_spans.all()]
    exceptions = {
        e.date: DayHours(e.closed, e.opens, e.closes) for e in service.opening_exceptions.all()
    }
    return time_fit(spans, exceptions, service.bank_holiday_hours, at, within=within, stay=stay)
