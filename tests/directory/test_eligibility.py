"""Each eligibility rule's Python form and SQL form (directory/eligibility.py) agree.

A fixed spread of services is written once per test; Hypothesis then asks about many
patients and moments, and every rule must pick the same services in Python (one service
at a time) as in SQL (over the search index rows, or the services, as the search does).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory import eligibility as rules
from directory.index import service_index_rebuild
from directory.models import Capacity, Role, Service, ServiceSearchEntry, Sex
from tests.directory.search_helpers import AT
from tests.factories import ServiceFactory, borough

EXAMPLES = int(os.environ.get("AGREEMENT_EXAMPLES", "60"))
# The spread is written once per test and only read by the examples.
READ_ONLY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

AGES = [(None, None), (18, 64), (None, 17), (65, None), (0, 0), (80, 120)]
SEXES = [[], ["female"], ["male"], ["female", "other"], ["other"]]
SLOTS = [None, 0, 3, 0]
EXPIRY = [None, timedelta(hours=2), -timedelta(minutes=1), timedelta(0), timedelta(seconds=1)]
STATUSES = [Capacity.GREEN, Capacity.RED, Capacity.AMBER, Capacity.UNKNOWN]
COVERS = [(), ("Westminster",), ("Camden",), ("Westminster", "Camden")]
ROLES = [[Role.CREW], [], [Role.PARTNER], [Role.CREW, Role.PARTNER]]
COUNT = 30  # the lists' lengths are mostly co-prime: 30 rows mix them well

ages = st.one_of(st.none(), st.integers(min_value=0, max_value=120))
sexes = st.sampled_from(["", *Sex.values])
boroughs = st.sampled_from([None, "Westminster", "Camden", "Lambeth"])
moments = st.integers(min_value=-3 * 3600, max_value=3 * 3600).map(
    lambda seconds: AT + timedelta(seconds=seconds)
)


@pytest.fixture
def spread(db):
    for i in range(COUNT):
        min_age, max_age = AGES[i % len(AGES)]
        expiry = EXPIRY[i % len(EXPIRY)]
        service = ServiceFactory(
            min_age=min_age,
            max_age=max_age,
            sexes=SEXES[i % len(SEXES)],
            capacity_slots=SLOTS[i % len(SLOTS)],
            capacity_status=STATUSES[i % len(STATUSES)],
            capacity_expires_at=None if expiry is None else AT + expiry,
            referral_roles=ROLES[i % len(ROLES)],
            active=i % 7 != 3,
        )
        covered = COVERS[i % len(COVERS)]
        if covered:
            service.boroughs_covered.set([borough(name) for name in covered])
            service_index_rebuild(service=service)
    return list(Service.objects.prefetch_related("boroughs_covered"))


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("service_id", flat=True))


def _entries():
    return ServiceSearchEntry.objects.annotate(sexes_text=rules.sexes_text())


def _where(services, predicate) -> set[int]:
    return {service.pk for service in services if predicate(service)}


@READ_ONLY
@given(age=ages)
def test_it_picks_the_same_ages_in_python_and_sql(spread, age):
    python = _where(spread, lambda s: rules.age_fits(s.min_age, s.max_age, age))
    assert _ids(_entries().filter(rules.sql_age_fits(age))) == python


@READ_ONLY
@given(sex=sexes)
def test_it_picks_the_same_sexes_in_python_and_sql(spread, sex):
    python = _where(spread, lambda s: rules.sex_fits(s.sexes, sex))
    assert _ids(_entries().filter(rules.sql_sexes_text_fits(sex))) == python


@READ_ONLY
@given(name=boroughs)
def test_it_picks_the_same_areas_in_python_and_sql(spread, name):
    origin = borough(name) if name else None

    def fits(service):
        covered = {b.pk for b in service.boroughs_covered.all()}
        return rules.area_fits(*rules.covers(covered, origin))

    assert _ids(_entries().filter(rules.sql_area_fits(origin))) == _where(spread, fits)


@READ_ONLY
@given(at=moments)
def test_it_reads_capacity_expiry_the_same_in_python_and_sql(spread, at):
    live = _where(spread, lambda s: rules.capacity_is_live(s.capacity_expires_at, at))
    not_full = _where(
        spread, lambda s: not rules.is_full(s.capacity_slots, s.capacity_expires_at, at)
    )
    not_taking = _where(
        spread, lambda s: rules.is_not_taking(s.capacity_status, s.capacity_expires_at, at)
    )

    assert _ids(_entries().filter(rules.sql_capacity_is_live(at))) == live
    assert _ids(_entries().filter(rules.sql_not_full(at))) == not_full
    assert _ids(_entries().filter(rules.sql_not_taking(at))) == not_taking


@READ_ONLY
@given(at=moments)
def test_it_shows_expired_capacity_as_unknown_everywhere(spread, at):
    for service in spread:
        live = rules.capacity_is_live(service.capacity_expires_at, at)
        expected = service.capacity_status if live else Capacity.UNKNOWN
        assert service.capacity_at(at) == expected


@READ_ONLY
@given(role=st.sampled_from([None, *Role.values]))
def test_it_picks_the_same_referrers_in_python_and_sql(spread, role):
    python = _where(spread, lambda s: rules.role_may_refer(s.referral_roles, role))
    services = Service.objects.annotate(roles_text=rules.roles_text())
    sql = set(services.filter(rules.sql_role_may_refer(role)).values_list("pk", flat=True))
    assert sql == python


@READ_ONLY
@given(age=ages, sex=sexes, name=boroughs, at=moments)
def test_it_picks_the_same_services_by_every_rule_but_time(spread, age, sex, name, at):
    origin = borough(name) if name else None

    def fits(service):
        covered = {b.pk for b in service.boroughs_covered.all()}
        return (
            service.active
            and rules.age_fits(service.min_age, service.max_age, age)
            and rules.sex_fits(service.sexes, sex)
            and rules.area_fits(*rules.covers(covered, origin))
            and not rules.is_full(service.capacity_slots, service.capacity_expires_at, at)
        )

    sql = _ids(_entries().filter(rules.sql_fits(age, sex, origin, at)))
    assert sql == _where(spread, fits)


# --- one home for the age bands and the category cache ----------------------------------


@given(age=ages)
def test_it_bands_ages_the_same_for_the_search_log_and_for_referrals(age):
    from directory.reference import age_band
    from referrals.services import age_band_for

    assert age_band_for(age) == (age_band(age) or "unknown")
    if age is not None:
        assert age_band(age) == (
            "0-17" if age < 18 else "18-64" if age < 65 else "65-79" if age < 80 else "80+"
        )


def test_it_finds_a_category_added_by_another_process_without_a_restart(db):
    from directory import reference
    from directory.models import Category

    reference.category_ids_by_code()  # the cache is filled
    Category.objects.bulk_create([Category(code="test-new-kind", name="New kind")])  # no signal

    assert reference.category_by_code("test-new-kind").name == "New kind"
    assert "test-new-kind" in reference.category_ids(["test-new-kind"])
