"""HSDS schedules: a service's weekly hours and dated exceptions as schedule records."""

from __future__ import annotations

from typing import Any

from directory.hsds.taxonomy import derived_id
from directory.models import OpeningException, OpeningSpan, Service

BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _hm(value) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _schedule_base(service: Service, schedule_id: str) -> dict[str, Any]:
    return {
        "id": schedule_id,
        "service_id": str(service.uuid),
        "location_id": None,
        "service_at_location_id": None,
        "valid_from": None,
        "valid_to": None,
        "dtstart": None,
        "timezone": None,
        "until": None,
        "count": None,
        "wkst": None,
        "freq": None,
        "interval": None,
        "byday": None,
        "byweekno": None,
        "bymonthday": None,
        "byyearday": None,
        "description": None,
        "opens_at": None,
        "closes_at": None,
        "schedule_link": None,
        "attending_type": "in_person",
        "notes": None,
        "attributes": [],
        "metadata": [],
    }


def weekly_schedule(service: Service, span: OpeningSpan) -> dict[str, Any]:
    """One weekly span. Times are Europe/London wall clock; closes_at <= opens_at runs
    overnight into the next day, and 00:00-00:00 is the whole day (as in directory.hours)."""
    opens, closes = _hm(span.opens), _hm(span.closes)
    schedule = _schedule_base(
        service, derived_id(service.uuid, f"schedule/weekly/{span.weekday}/{opens}/{closes}")
    )
    if opens == closes:
        note = "Open all day (Europe/London)."
    elif closes < opens:
        note = "Runs overnight: closes the next morning (Europe/London)."
    else:
        note = "Europe/London local time."
    schedule.update(
        freq="WEEKLY",
        interval=1,
        byday=BYDAY[span.weekday],
        wkst="MO",
        opens_at=opens,
        closes_at=closes,
        description=f"{span.get_weekday_display()} {opens}-{closes}",
        notes=note,
    )
    return schedule


def exception_schedule(service: Service, exception: OpeningException) -> dict[str, Any]:
    """A dated exception: valid for that one day, closed (no times) or open opens-closes."""
    day = exception.date.isoformat()
    schedule = _schedule_base(service, derived_id(service.uuid, f"schedule/exception/{day}"))
    schedule.update(
        valid_from=day,
        valid_to=day,
        dtstart=day,
        description="Closed" if exception.closed else "Open instead of the usual hours",
        opens_at=None if exception.closed else _hm(exception.opens),
        closes_at=None if exception.closed else _hm(exception.closes),
        notes=exception.note or None,
    )
    return schedule


def schedules(service: Service) -> list[dict[str, Any]]:
    return [weekly_schedule(service, s) for s in service.opening_spans.all()] + [
        exception_schedule(service, e) for e in service.opening_exceptions.all()
    ]
