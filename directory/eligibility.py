"""Whether a patient fits a service: every eligibility rule, once, in its two forms.

Each rule is written here as a Python predicate on one service's facts (referral
creation, explain, the few search candidates judged exactly) and, beside it, as the SQL
condition the search's fast path filters on. Nothing else restates them: the selectors,
the search (directory/search/sql.py, directory/search/judged.py), explain, the pages and
referral creation all call these. tests/directory/test_eligibility.py checks each pair
agrees, and tests/directory/test_search_agreement.py that the callers do.

The rules, in the order a reason is given:
- active: an inactive service takes no one ("inactive");
- age: within min_age..max_age, either end open; an unknown age fits ("not_eligible_age");
- sex: the service's sexes, empty meaning all; an unknown sex fits ("not_eligible_sex");
- area: the boroughs covered, empty meaning anywhere ("outside_area");
- capacity: 0 slots while the status is live ("full"); a live RED is listed last by the
  search but refused by referral creation ("not_taking_referrals"); a stale 0 slots is
  listed (capacity unknown) but refused by referral creation, which takes a slot from
  the counter ("full"). A status is live
  until capacity_expires_at and then reads UNKNOWN: capacity_is_live is the one
  expiry rule;
- time: open now for long enough, opening within the urgency window, or taking
  referrals while closed (directory/timing.py holds the time rule's two forms);
  otherwise "closed" or "closing_soon";
- referral roles: who may send (an empty list means crews); not a search filter, the
  pages show it as "takes referrals from other professionals only".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast

from directory.models import Borough, Capacity, Role, Service, Sex
from directory.timing import Group, time_group


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


# --- capacity expiry ------------------------------------------------------------------


def capacity_is_live(expires_at: datetime | None, at: datetime) -> bool:
    """A partner's capacity status holds until it expires; then it reads UNKNOWN."""
    return expires_at is not None and expires_at > at


def sql_capacity_is_live(at: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}capacity_expires_at__gt": at})


def capacity_status_at(status: str, expires_at: datetime | None, at: datetime) -> str:
    """The status as a crew should read it."""
    return status if capacity_is_live(expires_at, at) else Capacity.UNKNOWN


# --- age ------------------------------------------------------------------------------


def age_fits(min_age: int | None, max_age: int | None, age: int | None) -> bool:
    if age is None:
        return True
    return (min_age is None or min_age <= age) and (max_age is None or age <= max_age)


def sql_age_fits(age: int | None, prefix: str = "") -> Q:
    if age is None:
        return Q()
    return (Q(**{f"{prefix}min_age__isnull": True}) | Q(**{f"{prefix}min_age__lte": age})) & (
        Q(**{f"{prefix}max_age__isnull": True}) | Q(**{f"{prefix}max_age__gte": age})
    )


# --- sex ------------------------------------------------------------------------------


def sex_fits(sexes: list[str] | None, sex: str | None) -> bool:
    # A patient whose sex is not known is not turned away on sex alone: the crew decides.
    if not sexes or not sex or sex == Sex.UNKNOWN:
        return True
    return sex in sexes


def sexes_text(field: str = "sexes") -> Cast:
    """The annotation sql_sexes_text_fits reads: '["female"]' on both backends."""
    return Cast(field, TextField())


def sql_sexes_text_fits(sex: str | None, sexes_text: str = "sexes_text") -> Q:
    """sexes_text: an annotation sexes_text(<sexes>)."""
    if not sex or sex == Sex.UNKNOWN:
        return Q()
    return Q(**{sexes_text: "[]"}) | Q(**{f"{sexes_text}__contains": f'"{sex}"'})


# --- area -----------------------------------------------------------------------------


def area_fits(covers_any: bool, covers_origin: bool) -> bool:
    return not covers_any or covers_origin


def covers(covered: set[str], borough: Borough | None) -> tuple[bool, bool]:
    """(covers_any, covers_origin) from the service's boroughs covered."""
    return bool(covered), borough is not None and borough.pk in covered


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


def sql_area_fits(borough: Borough | None, *, covers_any: str = "covers_any") -> Q:
    """On a row carrying a covers_any copy and a service_id (the search index)."""
    through = Service.boroughs_covered.through
    origin = borough.pk if borough else None
    return Q(**{covers_any: False}) | Q(
        service_id__in=through.objects.filter(borough_id=origin).values("service_id")
    )


# --- capacity -------------------------------------------------------------------------


def is_full(slots: int | None, expires_at: datetime | None, at: datetime) -> bool:
    # Stale capacity is not live: an expired "0 slots" no longer says the service is full.
    return slots == 0 and capacity_is_live(expires_at, at)


def sql_not_full(at: datetime, prefix: str = "") -> Q:
    return ~(Q(**{f"{prefix}capacity_slots": 0}) & sql_capacity_is_live(at, prefix))


def no_slot_to_take(slots: int | None) -> bool:
    """Referral creation takes a slot from the counter, whether or not the status is still
    live: with none left it refuses ("full"), though a stale 0 does not leave the service
    out of the search (is_full). Pages ask this too, so they never offer Refer for it."""
    return slots == 0


def is_not_taking(status: str | None, expires_at: datetime | None, at: datetime) -> bool:
    # A live RED is the partner saying "no more referrals now"; once stale it reads UNKNOWN.
    return status == Capacity.RED and capacity_is_live(expires_at, at)


def sql_not_taking(at: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}capacity_status": Capacity.RED}) & sql_capacity_is_live(at, prefix)


# --- referral roles -------------------------------------------------------------------


def role_may_refer(roles: list[str] | None, role: str | None) -> bool:
    """Whether a user of `role` may send this service referrals; planners never do."""
    return role is not None and role != Role.PLANNER and role in (roles or [Role.CREW])


def roles_text(field: str = "referral_roles") -> Cast:
    """The annotation sql_role_may_refer reads."""
    return Cast(field, TextField())


def sql_role_may_refer(role: str | None, prefix: str = "") -> Q:
    """On rows annotated roles_text=roles_text()."""
    if role is None or role == Role.PLANNER:
        return Q(pk__in=[])
    mine = Q(**{f"{prefix}roles_text__contains": f'"{role}"'})
    return mine | Q(**{f"{prefix}roles_text": "[]"}) if role == Role.CREW else mine


# --- all of them together -------------------------------------------------------------


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


def sql_fits(query_age: int | None, query_sex: str | None, borough: Borough | None, at) -> Q:
    """Every rule above but time, on a search index row (its copied facts), in SQL.

    The row must carry the annotation sexes_text (sexes_text()) when a sex is given."""
    return (
        Q(active=True)
        & sql_age_fits(query_age)
        & sql_not_full(at)
        & sql_area_fits(borough)
        & sql_sexes_text_fits(query_sex)
    )
