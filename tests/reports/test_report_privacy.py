"""Small-cell suppression: counts from 1 to 4 leave as "<5" in everything a planner gets
(API, CSV, XLSX, the page); rates and times drawn from so few are left out."""

import csv
import io
import random
from datetime import UTC, datetime

import pytest
from django.test import Client
from openpyxl import load_workbook

from directory.models import Organisation
from referrals.demo import fictional_referral, save_backdated
from referrals.models import Status
from tests.factories import OrganisationFactory, ServiceFactory

REFERRALS = "/api/v1/reports/referrals/"
GAPS = "/api/v1/reports/gaps/"
WEEK = {"from": "2025-06-02", "to": "2025-06-08"}


@pytest.fixture
def referrals(db):
    """Six referrals into a busy service and two into a quiet one, in one June week."""
    rng = random.Random(5)
    referrer = OrganisationFactory(kind=Organisation.Kind.AMBULANCE_TRUST)
    busy = ServiceFactory(name="Busy Falls")
    quiet = ServiceFactory(name="Quiet Crisis")
    at = datetime(2025, 6, 3, 9, tzinfo=UTC)
    made = [
        fictional_referral(
            rng=rng,
            service=busy,
            referring_organisation=referrer,
            created_at=at,
            status=Status.DECLINED,
        )
        for _ in range(6)
    ] + [
        fictional_referral(
            rng=rng,
            service=quiet,
            referring_organisation=referrer,
            created_at=at,
            status=Status.DECLINED,
        )
        for _ in range(2)
    ]
    return save_backdated(made)


def _by_service(rows):
    return {row["label"]: row for row in rows}


def test_a_planner_sees_small_counts_as_under_five_in_json(api_as, planner, referrals):
    answer = api_as(planner).get(REFERRALS, {**WEEK, "group_by": "service"})
    rows = _by_service(answer.json()["rows"])
    assert rows["Quiet Crisis"]["referrals"] == "<5"
    assert rows["Quiet Crisis"]["declined"] == "<5"
    assert rows["Quiet Crisis"]["acceptance_rate"] is None
    assert rows["Quiet Crisis"]["accepted"] == 0  # zero points at nobody and stays
    assert rows["Busy Falls"]["referrals"] == 6
    assert rows["Busy Falls"]["declined"] == 6


def test_a_planner_sees_small_counts_as_under_five_in_csv(api_as, planner, referrals):
    answer = api_as(planner).get(REFERRALS, {**WEEK, "group_by": "service", "format": "csv"})
    body = b"".join(answer.streaming_content).decode()
    rows = {row["label"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["Quiet Crisis"]["referrals"] == "<5"
    assert rows["Busy Falls"]["referrals"] == "6"


def test_a_planner_sees_small_counts_as_under_five_in_xlsx(api_as, planner, referrals):
    answer = api_as(planner).get(REFERRALS, {**WEEK, "group_by": "service", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    # Read-only sheets drop trailing empty cells: pad each row to the header.
    by_label = {
        row[1]: dict(zip(header, row + (None,) * (len(header) - len(row)), strict=True))
        for row in rows
    }
    assert by_label["Quiet Crisis"]["referrals"] == "<5"
    assert by_label["Busy Falls"]["referrals"] == 6


def test_a_planner_sees_small_gap_counts_as_under_five(api_as, planner, db):
    from directory.models import SearchLog

    for _ in range(2):
        SearchLog.objects.create(result_count=0, categories=["falls"])
    rows = api_as(planner).get(GAPS).json()["rows"]
    assert rows and all(row["searches"] == "<5" and row["gaps"] == "<5" for row in rows)
    assert all(row["gap_rate"] is None for row in rows)


def test_a_planner_sees_small_counts_as_under_five_on_the_page(planner, referrals):
    client = Client()
    client.force_login(planner)
    page = client.get("/reports/", {**WEEK, "service": referrals[-1].service_id})
    text = page.content.decode()
    assert page.status_code == 200
    assert "&lt;5" in text
    assert ">2<" not in text


def test_an_operator_sees_exact_counts(api_as, operator, referrals):
    rows = _by_service(
        api_as(operator).get(REFERRALS, {**WEEK, "group_by": "service"}).json()["rows"]
    )
    assert rows["Quiet Crisis"]["referrals"] == 2


def test_the_threshold_is_a_setting(api_as, planner, referrals, settings):
    settings.REPORT_SMALL_CELL_THRESHOLD = 10
    rows = _by_service(
        api_as(planner).get(REFERRALS, {**WEEK, "group_by": "service"}).json()["rows"]
    )
    assert rows["Busy Falls"]["referrals"] == "<10"


def _chart(user, name, **params):
    client = Client()
    client.force_login(user)
    answer = client.get(f"/reports/charts/{name}.svg", {**WEEK, **params})
    assert answer.status_code == 200
    return answer.content.decode()


def test_a_planners_charts_hide_small_counts(planner, operator, referrals):
    quiet = {"service": referrals[-1].service_id}
    assert 'class="value">2<' in _chart(operator, "weekly", **quiet)
    assert 'class="value">2<' not in _chart(planner, "weekly", **quiet)


def test_a_planners_charts_hide_rates_of_small_groups(planner, operator, referrals):
    quiet = {"service": referrals[-1].service_id}
    assert 'class="value">0%<' in _chart(operator, "acceptance", **quiet)
    assert 'class="value">0%<' not in _chart(planner, "acceptance", **quiet)
