"""Directory reads: services as a user may see them, and whether a patient fits a service.

The eligibility rules live here once, in two forms that must agree: Python predicates on
one service (used for referrals and for the few search candidates checked exactly), and
the same predicates as SQL conditions (used by the search's fast path). The reason codes
are the same in both; tests/directory/test_search.py checks they agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from config.errors import DomainError
from directory import permissions
from directory.filters import ServiceFilter
from directory.hours import TimeFit, service_time_fit
from directory.models import Borough, Service, Sex
from directory.timing import STAY, STAY_MINUTES, Group, time_group

# Kept under its old name: the search's closing-soon rule is the time rule's `stay`.
CLOSING_SOON_MINUTES = STAY_MINUTES


class Reason:
    """Why a crew may not refer a patient to a service now, in the order they are checked."""

    INACTIVE = "inactive"
    NOT_ELIGIBLE_AGE = "not_eligible_age"
    NOT_ELIGIBLE_SEX = "not_eligible_sex"
    OUTSIDE_AREA = "outside_area"
    FULL = "full"
    # The partner's live RED: listed (last), but a referral is not sent; the crew phones.
    NOT_TAKING = "not_taking_referrals"
    CLOSED = "closed"
    CLOSING_SOON = "closing_soon"


# --- the rules, in Python ----------------------------------------------------------------


def age_fits(min_age: int | None, max_age: int | None, age: int | None) -> bool:
    if age is None:
        return True
    return (min_age is None or min_age <= age) and (max_age is None or age <= max_age)


def sex_fits(sexes: list[str] | None, sex: str | None) -> bool:
    # A patient whose sex is not known is not turned away on sex alone: the crew decides.
    if not sexes or not sex or sex == Sex.UNKNOWN:
        return True
    return sex in sexes


def area_fits(covers_any: bool, covers_origin: bool) -> bool:
    return not covers_any or covers_origin


def is_full(slots: int | None, expires_at: datetime | None, at: datetime) -> bool:
    # Stale capacity is not live: an expired "0 slots" no longer says the service is full.
    return slots == 0 and expires_at is not None and expires_at > at


def is_not_taking(status: str | None, expires_at: datetime | None, at: datetime) -> bool:
    # A live RED is the partner saying "no more referrals now"; once stale it reads UNKNOWN.
    return status == "RED" and expires_at is not None and expires_at > at


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about one service for one patient, at one moment."""

    active: bool
    age_ok: bool
    sex_ok: bool
    area_ok: bool
    full: bool
    open_now: bool
    # The time rule's inputs (directory/timing.py).
    usable_now: bool
    usable_in_window: bool
    accepts_when_closed: bool

    @property
    def group(self) -> int | None:
        return time_group(
            open_now=self.open_now,
            usable_now=self.usable_now,
            usable_in_window=self.usable_in_window,
            accepts_when_closed=self.accepts_when_closed,
        )


def problem_from_facts(facts: Facts, *, closed_is_problem: bool = True) -> str | None:
    """The first reason a patient may not go there in time, or None.

    The search ranks closed services last rather than leaving them out, so it passes
    closed_is_problem=False unless the crew asked for open services only. Open now or
    within the urgency window, or taking referrals while closed, is not closed
    (directory/timing.py).
    """
    if not facts.active:
        return Reason.INACTIVE
    if not facts.age_ok:
        return Reason.NOT_ELIGIBLE_AGE
    if not facts.sex_ok:
        return Reason.NOT_ELIGIBLE_SEX
    if not facts.area_ok:
        return Reason.OUTSIDE_AREA
    if facts.full:
        return Reason.FULL
    group = facts.group
    if group is None:
        return Reason.CLOSING_SOON
    if group == Group.CLOSED:
        return Reason.CLOSED if closed_is_problem else None
    return None


# --- the same rules, in SQL (prefix: the path from the queried model to Service) ----------


def sql_age_fits(age: int | None, prefix: str = "") -> Q:
    if age is None:
        return Q()
    return (Q(**{f"{prefix}min_age__isnull": True}) | Q(**{f"{prefix}min_age__lte": age})) & (
        Q(**{f"{prefix}max_age__isnull": True}) | Q(**{f"{prefix}max_age__gte": age})
    )


def sql_sexes_text_fits(sex: str | None, sexes_text: str = "sexes_text") -> Q:
    """sexes_text: an annotation Cast(<sexes>, TextField()), e.g. '["female"]' on both backends."""
    if not sex or sex == Sex.UNKNOWN:
        return Q()
    return Q(**{sexes_text: "[]"}) | Q(**{f"{sexes_text}__contains": f'"{sex}"'})


def sql_covers(service_ref: str, borough: Borough | None) -> tuple[Exists, Exists]:
    """(covers_any, covers_origin) as EXISTS subqueries on the boroughs-covered table."""
    through = Service.boroughs_covered.through
    covers_any = Exists(through.objects.filter(service_id=OuterRef(service_ref)))
    covers_origin = Exists(
        through.objects.filter(
            service_id=OuterRef(service_ref), borough_id=borough.pk if borough else None
        )
    )
    return covers_any, covers_origin


def sql_not_full(at: datetime, prefix: str = "") -> Q:
    return ~(Q(**{f"{prefix}capacity_slots": 0}) & Q(**{f"{prefix}capacity_expires_at__gt": at}))


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
        area_ok=area_fits(bool(covered), borough is not None and borough.pk in covered),
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
    (service_eligibility_problem) and then the partner's live RED, which the search lists
    last but referral creation refuses."""
    problem = service_eligibility_problem(
        service=service, age=age, sex=sex, borough=borough, at=at, within=within
    )
    if problem is None and is_not_taking(service.capacity_status, service.capacity_expires_at, at):
        return Reason.NOT_TAKING
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
    live = service.capacity_expires_at is not None and service.capacity_expires_at > at
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
