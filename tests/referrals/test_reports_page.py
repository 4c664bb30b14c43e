"""The planners' reports page: charts with text alternatives, tables, filters, access."""

import re

import pytest
from django.test import Client

from directory.models import Organisation
from referrals.demo import seed_activity
from referrals.models import Referral
from tests.factories import OrganisationFactory, ServiceFactory, category

CHARTS = ["weekly", "acceptance", "response", "gaps"]


@pytest.fixture
def activity(db):
    OrganisationFactory(name="Test Ambulance", kind=Organisation.Kind.AMBULANCE_TRUST)
    ServiceFactory(name="Westminster Falls", categories=[category("falls")])
    seed_activity(referrals=80, searches=40)


def browser_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_a_planner_charts_and_the_tables_behind_them(activity, planner):
    page = browser_as(planner).get("/reports/")

    assert page.status_code == 200
    html = page.content.decode()
    for name in CHARTS:
        image = re.search(rf'<img[^>]+src="/reports/charts/{name}\.svg\?[^"]*"[^>]*>', html)
        assert image, name
        assert 'alt="' in image.group(0) and "aria-describedby" in image.group(0)
    assert html.count('<table class="nhsuk-table"') == 5  # four charts' tables and downloads
    shown = sum(
        int(n)
        for n in re.findall(r'<td class="nhsuk-table__cell fd-number">(\d+)</td>\s*<td', html)
    )
    assert shown  # the weekly table carries the demo's referrals
    assert "/api/v1/reports/referrals/rows/?" in html and "format=xlsx" in html


def test_it_counts_the_demo_referrals_in_the_weekly_table(activity, planner):
    html = browser_as(planner).get("/reports/?from=2000-01-01").content.decode()

    assert f'<dd class="nhsuk-summary-list__value">{Referral.objects.count()}</dd>' in html


@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_is_an_svg_without_script(activity, planner, name):
    chart = browser_as(planner).get(f"/reports/charts/{name}.svg?from=2000-01-01")

    assert chart.status_code == 200
    assert chart["Content-Type"] == "image/svg+xml"
    assert "script-src" not in chart["Content-Security-Policy"]
    body = chart.content.decode()
    assert "<svg" in body and "<script" not in body


def test_it_keeps_the_filters_in_the_chart_addresses(activity, planner):
    html = browser_as(planner).get("/reports/?from=2025-01-01&to=2025-03-31&ics=NWL").content
    assert b"/reports/charts/weekly.svg?from=2025-01-01&amp;to=2025-03-31&amp;ics=NWL" in html


def test_it_explains_a_bad_filter_and_shows_the_last_weeks(activity, planner):
    page = browser_as(planner).get("/reports/?from=someday")

    assert page.status_code == 200
    assert b"There is a problem with the filters" in page.content
    assert b'href="#filter-from"' in page.content


@pytest.mark.parametrize("user", ["crew", "partner"])
@pytest.mark.parametrize("url", ["/reports/", "/reports/charts/weekly.svg"])
def test_it_refuses_crews_and_partners(db, request, user, url):
    assert browser_as(request.getfixturevalue(user)).get(url).status_code == 403


def test_an_operator_may_read_reports(operator):
    assert browser_as(operator).get("/reports/").status_code == 200


@pytest.mark.parametrize("url", ["/reports/", "/reports/charts/gaps.svg"])
def test_it_sends_anonymous_visitors_to_log_in(db, url):
    answer = Client().get(url)

    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/")


def test_an_unknown_chart_is_not_found(planner):
    assert browser_as(planner).get("/reports/charts/pie.svg").status_code == 404
