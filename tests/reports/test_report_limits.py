"""Report filters: hostile dates and ids are a 400 naming the field; spans are capped."""

from datetime import timedelta

import pytest
from django.utils import timezone

REFERRALS = "/api/v1/reports/referrals/"
ROWS = "/api/v1/reports/referrals/rows/"
GAPS = "/api/v1/reports/gaps/"


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        (REFERRALS, {}),
        (REFERRALS, {"format": "csv"}),
        (REFERRALS, {"format": "xlsx"}),
        (REFERRALS, {"group_by": "day"}),
        (ROWS, {"format": "csv"}),
        (GAPS, {}),
        (GAPS, {"format": "csv"}),
    ],
)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01"}, "from"),
        ({"service": "²"}, "service"),
        ({"service": "9" * 30}, "service"),
    ],
)
def test_it_refuses_a_hostile_filter_naming_it(api_as, planner, url, extra, params, field):
    answer = api_as(planner).get(url, {**params, **extra})
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("url", "days"),
    [
        ({"group_by": "day"}, 367),
        ({"group_by": "week"}, 3 * 366 + 1),
        ({"group_by": "category"}, 10 * 366 + 1),
        ({"url": ROWS}, 367),
        ({"url": GAPS}, 10 * 366 + 1),
    ],
)
def test_it_caps_the_span_of_a_report_per_grouping(api_as, planner, url, days):
    extra = dict(url)
    url = extra.pop("url", REFERRALS)
    today = timezone.localdate()
    too_long = {
        "from": (today - timedelta(days=days - 1)).isoformat(),
        "to": today.isoformat(),
        **extra,
    }
    answer = api_as(planner).get(url, too_long)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "span_too_long"
    assert "at most" in error["fields"]["from"][0]

    just_fits = {**too_long, "from": (today - timedelta(days=days - 2)).isoformat()}
    assert api_as(planner).get(url, just_fits).status_code == 200


def test_it_refuses_the_span_that_made_a_hundred_megabyte_extract(api_as, planner):
    answer = api_as(planner).get(ROWS, {"from": "2000-01-01", "format": "csv"})
    assert answer.status_code == 400
