"""The planners' reports page: charts with text alternatives, tables, filters, access."""

import re

import pytest
from django.test import Client

from directory.models import Borough, Category, Organisation, SearchLog
from referrals.demo import seed_activity
from referrals.models import Referral
from reports.charts import chart_gaps
from reports.filters import report_filters_from
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


# --- phones and colours ----------------------------------------------------------------

PHONE_COLUMN_PX = 328  # a 360 px screen less the page's margins


def text_sizes(svg: str) -> dict[str, float]:
    """The smallest axis and legend text of a chart, in px as shown in a phone's column."""
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    shown = min(width, PHONE_COLUMN_PX) / width
    sizes = {}
    for part in ("axis", "legend"):
        found = re.findall(rf"\.{part}[^{{}}]*text[^{{}}]*\{{[^}}]*font-size:([\d.]+)px", svg)
        sizes[part] = min(float(size) for size in found) * shown
    return sizes


@pytest.mark.parametrize("name", CHARTS)
def test_it_draws_phones_a_chart_whose_text_stays_legible(activity, planner, name):
    client = browser_as(planner)
    phone = client.get(f"/reports/charts/{name}.svg?from=2000-01-01&layout=narrow")
    wide = client.get(f"/reports/charts/{name}.svg?from=2000-01-01")

    assert all(size >= 14 for size in text_sizes(phone.content.decode()).values())
    # The wide drawing, shrunk into the same column, would be unreadable.
    assert all(size < 8 for size in text_sizes(wide.content.decode()).values())


@pytest.mark.parametrize("layout", ["wide", "narrow"])
@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_says_when_there_is_no_data(planner, name, layout):
    chart = browser_as(planner).get(f"/reports/charts/{name}.svg?layout={layout}")
    assert chart.status_code == 200
    assert "No data for these filters" in chart.content.decode()


def test_it_offers_the_phone_drawing_of_each_chart_below_40em(activity, planner):
    html = browser_as(planner).get("/reports/").content.decode()
    for name in CHARTS:
        assert re.search(
            rf'<source media="\(max-width: 40em\)" srcset="/reports/charts/{name}\.svg\?'
            rf'[^"]*layout=narrow"',
            html,
        ), name


def test_the_gaps_chart_names_few_categories_in_distinct_colours(planner):
    borough = Borough.objects.get(slug="camden")
    categories = list(Category.objects.order_by("code"))
    assert len(categories) >= 12
    logs = [
        SearchLog(borough=borough, categories=[c.code], result_count=0)
        for n, c in enumerate(categories)
        for _ in range(n + 1)
    ]
    SearchLog.objects.bulk_create(logs)
    filters = report_filters_from({})

    chart = chart_gaps(filters)

    names = [config["title"] for _, config in chart.raw_series]
    assert len(names) <= 6
    assert names[-1] == "Other categories"
    colours = list(chart.config.style.colors[: len(names)])
    assert len(set(colours)) == len(colours)
    # Nothing is lost: the series still add up to every gap in the borough.
    assert sum(values[0] for values, _ in chart.raw_series) == len(logs)
