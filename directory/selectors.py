"""Directory reads: services as a user may see them, and whether a patient fits a service.

The eligibility rules themselves live in directory/eligibility.py (Python and SQL side by
side); service_fit applies them to one service with its hours read exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from config.compiled import row_by
from config.errors import DomainError
from config.json_agg import compiled_once, json_rows
from directory import permissions
from directory.eligibility import (
    Facts,
    Reason,
    age_fits,
    area_fits,
    capacity_is_live,
    covers,
    is_full,
    is_not_taking,
    no_slot_to_take,
    problem_from_facts,
    sex_fits,
)
from directory.filters import ServiceFilter
from directory.hours import TimeFit, service_time_fit
from directory.models import Borough, OpeningException, OpeningSpan, Service
from directory.timing import STAY, STAY_MINUTES

# Kept under its old name: the search's closing-soon rule is the time rule's `stay`.
CLOSING_SOON_MINUTES = STAY_MINUTES


# --- reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFit:
    """Whether a patient may be referred to a service within a window, and the hours' say."""

    problem: str | None
    group: int | None
    hours: TimeFit


def service_fit(
    *,
    service: Service,
    age: int | None,
    sex: str | None,
    borough: Borough | None,
    at: datetime,
    within: timedelta = timedelta(0),
) -> ServiceFit:
    """The search's rules for one service and patient, hours read exactly (exceptions, bank
    holidays, clock changes): what referral creation checks, and what explain reports."""
    covered = {b.pk for b in service.boroughs_covered.all()}
    hours = service_time_fit(service, at, within=within, stay=STAY)
    facts = Facts(
        active=service.active,
        age_ok=age_fits(service.min_age, service.max_age, age),
        sex_ok=sex_fits(service.sexes, sex),
        area_ok=area_fits(*covers(covered, borough)),
        full=is_full(service.capacity_slots, service.capacity_expires_at, at),
        open_now=hours.state.open,
        usable_now=hours.takes_from is not None and hours.takes_from <= at,
        usable_in_window=hours.takes_from is not None,
        accepts_when_closed=service.accepts_referrals_when_closed,
    )
    return ServiceFit(problem_from_facts(facts), facts.group, hours)


def service_referral_problem(
    *,
    service: Service,
    age: int | None,
    sex: str | None,
    borough: Borough | None,
    at: datetime,
    within: timedelta = timedelta(0),
) -> str | None:
    """Why a referral to this service would be refused, or None: the search's rules
    (service_eligibility_problem), then the partner's live RED, which the search lists
    last but referral creation refuses, and a slot counter at 0 even when stale."""
    problem = service_eligibility_problem(
        service=service, age=age, sex=sex, borough=borough, at=at, within=within
    )
    if problem is None and is_not_taking(service.capacity_status, service.capacity_expires_at, at):
        return Reason.NOT_TAKING
    if problem is None and no_slot_to_take(service.capacity_slots):
        return Reason.FULL
    return problem


def service_eligibility_problem(
    *,
    service: Service,
    age: int | None,
    sex: str | None,
    borough: Borough | None,
    at: datetime,
    within: timedelta = timedelta(0),
) -> str | None:
    """The reason code a crew may not refer this patient to this service within `within`
    of `at`, or None (service_fit's problem).

    Codes: inactive, not_eligible_age, not_eligible_sex, outside_area, full, closed,
    closing_soon. Open now, or opening within the window for long enough, or taking
    referrals while closed, is not closed (directory/timing.py).
    """
    return service_fit(
        service=service, age=age, sex=sex, borough=borough, at=at, within=within
    ).problem


def service_for_fit(
    *,
    service_id: int,
    queryset: Callable[[], QuerySet[Service]] | None = None,
    name: str = "service_for_fit",
) -> Service | None:
    """One service with everything service_fit reads, in one statement; None if absent.

    Referral creation runs service_fit on every POST: the boroughs covered, the weekly
    spans and the dated exceptions come back as JSON arrays beside the service row rather
    than as three prefetch queries (three more round trips per referral). `queryset` may add
    select_related or annotations of the caller's own, under a `name` of its own: the SQL is
    compiled once per connection and kept under that name (config/compiled.py), since
    compiling it cost more CPU than running it.
    """

    def build(value) -> QuerySet[Service]:
        base = Service.objects.all() if queryset is None else queryset()
        return base.annotate(
            fit_boroughs=compiled_once(Service, "fit_boroughs", _fit_boroughs),
            fit_spans=compiled_once(Service, "fit_spans", _fit_spans),
            fit_exceptions=compiled_once(Service, "fit_exceptions", _fit_exceptions),
        ).filter(pk=value)

    low, high = connection.ops.integer_field_range(Service._meta.pk.get_internal_type())
    if not isinstance(service_id, int) or not low <= service_id <= high:
        # As the ORM's lookup would: an id out of the column's range matches no service.
        return None
    service = row_by(Service, name, build, service_id)
    if service is None:
        return None
    spans = [
        OpeningSpan(
            service=service,
            weekday=row["weekday"],
            opens=time.fromisoformat(row["opens"]),
            closes=time.fromisoformat(row["closes"]),
        )
        for row in service.fit_spans or []
    ]
    exceptions = [
        OpeningException(
            service=service,
            date=date.fromisoformat(row["date"]),
            closed=bool(row["closed"]),
            opens=_time_or_none(row["opens"]),
            closes=_time_or_none(row["closes"]),
        )
        for row in service.fit_exceptions or []
    ]
    boroughs = [Borough(pk=row["code"]) for row in service.fit_boroughs or []]
    # Filled as prefetch_related fills them, so service.opening_spans.all() and the others
    # read these rows without a query, in the models' own order.
    service._prefetched_objects_cache = {
        "boroughs_covered": _filled(service.boroughs_covered.all(), boroughs),
        "opening_spans": _filled(
            service.opening_spans.all(), sorted(spans, key=lambda s: (s.weekday, s.opens))
        ),
        "opening_exceptions": _filled(
            service.opening_exceptions.all(), sorted(exceptions, key=lambda e: e.date)
        ),
    }
    return service


def _fit_boroughs():
    return json_rows(
        Service.boroughs_covered.through.objects.all(), parent="service", code="borough_id"
    )


def _fit_spans():
    return json_rows(
        OpeningSpan.objects.all(),
        parent="service",
        weekday="weekday",
        opens="opens",
        closes="closes",
    )


def _fit_exceptions():
    return json_rows(
        OpeningException.objects.all(),
        parent="service",
        date="date",
        closed="closed",
        opens="opens",
        closes="closes",
    )


def _filled(queryset: QuerySet, rows: list) -> QuerySet:
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


def _time_or_none(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def _service_queryset() -> QuerySet[Service]:
    return Service.objects.select_related("organisation", "location__borough").prefetch_related(
        "categories", "boroughs_covered", "opening_spans"
    )


def service_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Service]:
    """Services the user may see, narrowed by the API's filters (category, borough, ics,
    organisation, q). A bad filter value is a DomainError naming the filter."""
    queryset = permissions.services_visible_to(user, _service_queryset())
    filterset = ServiceFilter(filters or {}, queryset=queryset)
    if not filterset.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        raise DomainError("A filter is not valid.", code="invalid", fields=fields)
    return filterset.qs


def service_get(*, service_id: int, user=None) -> Service | None:
    """One service with what its page needs; None if absent (or, given a user, not visible)."""
    queryset = _service_queryset().prefetch_related("opening_exceptions")
    if user is not None:
        queryset = permissions.services_visible_to(user, queryset)
    return queryset.filter(pk=service_id).first()


def capacity_live(service: Service, at: datetime) -> dict[str, Any]:
    """The capacity as a crew should read it: once expired, UNKNOWN with no slots."""
    live = capacity_is_live(service.capacity_expires_at, at)
    return {
        "status": service.capacity_status if live else "UNKNOWN",
        "slots": service.capacity_slots if live else None,
        "updated_at": service.capacity_updated_at,
        "expires_at": service.capacity_expires_at,
    }


def exceptions_window(at: datetime) -> tuple[Any, Any]:
    """The dates of exceptions that can change opening within hours.HORIZON_DAYS of `at`."""
    from directory.hours import HORIZON_DAYS, LONDON

    day = at.astimezone(LONDON).date()
    return day - timedelta(days=1), day + timedelta(days=HORIZON_DAYS + 1)
