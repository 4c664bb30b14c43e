"""Report aggregates, checked against hand-built referrals and searches."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from config.errors import DomainError
from directory.models import Organisation, SearchLog
from referrals.demo import fictional_referral, save_backdated
from referrals.models import DeclineReason, Status
from reports.filters import ReportFilters, report_filters_from
from reports.measures import COUNT_COLUMNS
from reports.selectors import gap_report, referral_report, referral_totals
from tests.factories import (
    LocationFactory,
    OrganisationFactory,
    ServiceFactory,
    borough,
    category,
)

RNG = random.Random(7)


@pytest.fixture
def referrer(db):
    return OrganisationFactory(name="Test Ambulance", kind=Organisation.Kind.AMBULANCE_TRUST)


@pytest.fixture
def westminster_falls(db):
    """A falls service in Westminster (North West London ICS)."""
    return ServiceFactory(name="Westminster Falls", categories=[category("falls")])


@pytest.fixture
def lambeth_crisis(db):
    """A mental-health crisis service in Lambeth (South East London ICS)."""
    org = OrganisationFactory(name="Lambeth Crisis Trust", borough=borough("Lambeth"))
    location = LocationFactory(organisation=org, borough=borough("Lambeth"))
    return ServiceFactory(
        name="Lambeth Crisis Cafe",
        organisation=org,
        location=location,
        categories=[category("mental-health-crisis")],
    )


def refer(service, referrer, at, status=Status.SENT, *, ack=None, answer=None, close=None, **kw):
    """A saved referral made at `at` (UTC), acknowledged/answered/closed after N minutes."""
    minutes = lambda m: timedelta(minutes=m) if m is not None else None  # noqa: E731
    referral = fictional_referral(
        rng=RNG,
        service=service,
        referring_organisation=referrer,
        created_at=at,
        status=status,
        acknowledged_after=minutes(ack),
        answered_after=minutes(answer),
        closed_after=minutes(close),
        **kw,
    )
    return save_backdated([referral])[0]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_it_puts_a_referral_in_the_london_day_it_was_made(westminster_falls, referrer):
    # 2 June 2025 is in British Summer Time (UTC+1).
    refer(westminster_falls, referrer, utc(2025, 6, 1, 23, 30))  # 00:30 BST on 2 June
    refer(westminster_falls, referrer, utc(2025, 6, 2, 23, 30))  # 00:30 BST on 3 June
    refer(westminster_falls, referrer, utc(2025, 6, 2, 12, 0))  # midday on 2 June

    rows = referral_report(
        filters=ReportFilters(date_from=date(2025, 6, 1), date_to=date(2025, 6, 4)),
        group_by="day",
    )

    assert [(row["key"], row["referrals"]) for row in rows] == [
        (date(2025, 6, 1), 0),
        (date(2025, 6, 2), 2),
        (date(2025, 6, 3), 1),
        (date(2025, 6, 4), 0),
    ]


def test_it_counts_a_referral_in_its_london_date_range_not_the_utc_one(westminster_falls, referrer):
    refer(westminster_falls, referrer, utc(2025, 6, 1, 23, 30))  # 2 June in London

    only_first = ReportFilters(date_from=date(2025, 6, 1), date_to=date(2025, 6, 1))
    only_second = ReportFilters(date_from=date(2025, 6, 2), date_to=date(2025, 6, 2))

    assert referral_totals(filters=only_first)["referrals"] == 0
    assert referral_totals(filters=only_second)["referrals"] == 1


def test_it_fills_weeks_without_referrals_with_zeros(westminster_falls, referrer):
    refer(westminster_falls, referrer, utc(2025, 6, 3, 10))  # week of Mon 2 June
    refer(westminster_falls, referrer, utc(2025, 6, 22, 23, 30))  # Mon 23 June 00:30 BST

    rows = referral_report(
        filters=ReportFilters(date_from=date(2025, 6, 1), date_to=date(2025, 6, 30)),
        group_by="week",
    )

    assert [(row["key"], row["referrals"]) for row in rows] == [
        (date(2025, 5, 26), 0),
        (date(2025, 6, 2), 1),
        (date(2025, 6, 9), 0),
        (date(2025, 6, 16), 0),
        (date(2025, 6, 23), 1),
        (date(2025, 6, 30), 0),
    ]
    assert rows[2]["acceptance_rate"] is None
    assert rows[1]["label"] == "w/c 2 Jun 2025"


def test_it_puts_the_first_bst_half_hour_of_a_month_in_that_month(westminster_falls, referrer):
    refer(westminster_falls, referrer, utc(2025, 3, 31, 23, 30))  # 00:30 BST on 1 April

    rows = referral_report(filters=ReportFilters(), group_by="month")

    assert [(row["key"], row["label"], row["referrals"]) for row in rows] == [
        (date(2025, 4, 1), "Apr 2025", 1)
    ]


def test_it_counts_outcomes_and_the_acceptance_rate(westminster_falls, referrer):
    at = utc(2025, 6, 2, 10)
    refer(westminster_falls, referrer, at, Status.SENT)
    refer(westminster_falls, referrer, at, Status.ACKNOWLEDGED, ack=5)
    refer(westminster_falls, referrer, at, Status.ACCEPTED, ack=5, answer=20)
    refer(westminster_falls, referrer, at, Status.COMPLETED, ack=5, answer=20, close=600)
    refer(westminster_falls, referrer, at, Status.COMPLETED, ack=5, answer=20, close=600)
    refer(
        westminster_falls,
        referrer,
        at,
        Status.DECLINED,
        ack=5,
        answer=10,
        close=10,
        decline_reason=DeclineReason.NO_CAPACITY,
    )
    refer(westminster_falls, referrer, at, Status.EXPIRED, close=30)
    refer(westminster_falls, referrer, at, Status.CANCELLED, close=3)  # before any answer

    totals = referral_totals(filters=ReportFilters())

    assert {name: totals[name] for name in COUNT_COLUMNS} == {
        "referrals": 8,
        "open": 2,
        "accepted": 1,
        "completed": 2,
        "declined": 1,
        "cancelled": 1,
        "expired": 1,
    }
    # 3 accepted (1 accepted + 2 completed) of 5 decided (3 + 1 declined + 1 expired).
    assert totals["acceptance_rate"] == 0.6


def test_it_counts_a_cancellation_after_acceptance_as_accepted(westminster_falls, referrer):
    at = utc(2025, 6, 2, 10)
    refer(westminster_falls, referrer, at, Status.CANCELLED, ack=5, answer=15, close=60)
    refer(westminster_falls, referrer, at, Status.EXPIRED, close=30)

    assert referral_totals(filters=ReportFilters())["acceptance_rate"] == 0.5


def test_it_reports_median_and_90th_percentile_response_times(westminster_falls, referrer):
    at = utc(2025, 6, 2, 10)
    for ack, answer in [(10, 20), (20, 40), (30, 60), (40, 80), (50, 100)]:
        refer(westminster_falls, referrer, at, Status.ACCEPTED, ack=ack, answer=answer)
    refer(westminster_falls, referrer, at, Status.SENT)  # no times: left out
    refer(  # declined: counts for acknowledging, not for accepting
        westminster_falls,
        referrer,
        at,
        Status.DECLINED,
        ack=60,
        answer=500,
        decline_reason=DeclineReason.OTHER,
    )

    totals = referral_totals(filters=ReportFilters())

    # Linear interpolation between ranks (percentile_cont): p90 of 10..60 is 55.
    assert totals["acknowledge_median_minutes"] == 35.0
    assert totals["acknowledge_p90_minutes"] == 55.0
    assert totals["accept_median_minutes"] == 60.0
    assert totals["accept_p90_minutes"] == 92.0


def test_it_reports_response_times_by_ics(westminster_falls, lambeth_crisis, referrer):
    at = utc(2025, 6, 2, 10)
    refer(westminster_falls, referrer, at, Status.ACCEPTED, ack=10, answer=30)
    refer(westminster_falls, referrer, at, Status.ACCEPTED, ack=20, answer=50)
    refer(lambeth_crisis, referrer, at, Status.ACKNOWLEDGED, ack=90)

    rows = {row["key"]: row for row in referral_report(filters=ReportFilters(), group_by="ics")}

    assert set(rows) == {"NWL", "SEL"}
    assert rows["NWL"]["label"] == "North West London"
    assert rows["NWL"]["acknowledge_median_minutes"] == 15.0
    assert rows["NWL"]["accept_median_minutes"] == 40.0
    assert rows["SEL"]["acknowledge_median_minutes"] == 90.0
    assert rows["SEL"]["accept_median_minutes"] is None


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("ics", {("NWL", "North West London"): 2, ("SEL", "South East London"): 1}),
        ("borough", {("E09000033", "Westminster"): 2, ("E09000022", "Lambeth"): 1}),
        (
            "category",
            {("falls", "Falls"): 2, ("mental-health-crisis", "Mental health crisis"): 1},
        ),
        ("service", {"Westminster Falls": 2, "Lambeth Crisis Cafe": 1}),
        ("organisation", {"Lambeth Crisis Trust": 1}),
        (
            "outcome",
            {
                ("open", "Still open"): 1,
                ("declined:no_capacity", "Declined: No capacity"): 2,
            },
        ),
        ("decline_reason", {("no_capacity", "No capacity"): 2}),
    ],
)
def test_it_groups_referrals_by(group_by, expected, westminster_falls, lambeth_crisis, referrer):
    at = utc(2025, 6, 2, 10)
    declined = {"ack": 5, "answer": 10, "decline_reason": DeclineReason.NO_CAPACITY}
    refer(westminster_falls, referrer, at, Status.DECLINED, **declined)
    refer(westminster_falls, referrer, at, Status.DECLINED, **declined)
    refer(lambeth_crisis, referrer, at, Status.SENT)

    rows = referral_report(filters=ReportFilters(), group_by=group_by)

    found = {}
    for row in rows:
        found[(row["key"], row["label"])] = found[row["label"]] = row["referrals"]
    assert {k: found.get(k) for k in expected} == expected


def test_it_filters_by_ics_borough_category_service_and_dates(
    westminster_falls, lambeth_crisis, referrer
):
    refer(westminster_falls, referrer, utc(2025, 6, 2, 10))
    refer(lambeth_crisis, referrer, utc(2025, 6, 2, 10))
    refer(lambeth_crisis, referrer, utc(2025, 7, 2, 10))

    def count(**filters):
        return referral_totals(filters=ReportFilters(**filters))["referrals"]

    assert count() == 3
    assert count(ics="SEL") == 2
    assert count(borough=borough("Westminster")) == 1
    assert count(category=category("mental-health-crisis")) == 2
    assert count(service=westminster_falls) == 1
    assert count(date_from=date(2025, 7, 1)) == 1
    assert count(date_to=date(2025, 6, 30), ics="SEL") == 1


def test_it_reads_filters_from_query_parameters(lambeth_crisis):
    filters = report_filters_from(
        {
            "from": "2025-06-01",
            "to": "2025-06-30",
            "ics": "sel",
            "borough": "lambeth",
            "category": "mental-health-crisis",
            "service": str(lambeth_crisis.pk),
        }
    )

    assert filters.date_from == date(2025, 6, 1)
    assert filters.ics == "SEL"
    assert filters.borough.name == "Lambeth"
    assert filters.service == lambeth_crisis
    assert report_filters_from(filters.as_query()) == filters


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-02-30"}, "to"),
        ({"from": "2025-06-02", "to": "2025-06-01"}, "to"),
        ({"ics": "XYZ"}, "ics"),
        ({"borough": "atlantis"}, "borough"),
        ({"category": "teleportation"}, "category"),
        ({"service": "abc"}, "service"),
    ],
)
def test_it_refuses_bad_filters_naming_the_field(db, params, field):
    with pytest.raises(DomainError) as refused:
        report_filters_from(params)

    assert field in refused.value.fields


def test_it_refuses_an_unknown_grouping(db):
    with pytest.raises(DomainError) as refused:
        referral_report(filters=ReportFilters(), group_by="colour")

    assert "group_by" in refused.value.fields


def search(at, borough_name, categories, results, fallback=False):
    log = SearchLog.objects.create(
        borough=borough(borough_name) if borough_name else None,
        categories=categories,
        result_count=results,
        fallback_shown=fallback,
    )
    SearchLog.objects.filter(pk=log.pk).update(created_at=at)


def test_it_counts_gaps_by_borough_and_category(db):
    at = utc(2025, 6, 2, 10)
    search(at, "Lambeth", ["falls"], 0, fallback=True)
    search(at, "Lambeth", ["falls"], 3)
    search(at, "Lambeth", ["falls", "frailty"], 0)
    search(at, "Camden", ["frailty"], 2, fallback=True)
    search(at, None, [], 0)
    search(utc(2025, 5, 1, 10), "Lambeth", ["falls"], 0)  # outside the dates

    rows = gap_report(filters=ReportFilters(date_from=date(2025, 6, 1)))

    found = {(r["borough_name"], r["category"]): (r["searches"], r["gaps"]) for r in rows}
    assert found == {
        ("Lambeth", "falls"): (3, 2),
        ("Lambeth", "frailty"): (1, 1),
        ("Camden", "frailty"): (1, 1),
        ("Not known", "any"): (1, 1),
    }
    assert rows[0]["borough_name"] == "Lambeth"
    assert rows[0]["gap_rate"] == round(2 / 3, 4)


def test_it_filters_gaps_by_ics_and_category(db):
    at = utc(2025, 6, 2, 10)
    search(at, "Lambeth", ["falls", "frailty"], 0)
    search(at, "Camden", ["frailty"], 0)

    by_ics = gap_report(filters=ReportFilters(ics="NCL"))
    by_category = gap_report(filters=ReportFilters(category=category("falls")))

    assert [(r["borough_name"], r["category"]) for r in by_ics] == [("Camden", "frailty")]
    assert [(r["borough_name"], r["category"]) for r in by_category] == [("Lambeth", "falls")]


def test_it_reports_nothing_for_an_empty_range(db):
    filters = ReportFilters(date_from=date(2025, 6, 2), date_to=date(2025, 6, 3))

    assert [row["referrals"] for row in referral_report(filters=filters, group_by="day")] == [0, 0]
    assert referral_report(filters=filters, group_by="ics") == []
    assert gap_report(filters=filters) == []
    assert referral_totals(filters=filters)["acknowledge_median_minutes"] is None
