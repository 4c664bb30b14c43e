"""The search's parameters: hostile values are a 400 naming the parameter, never a 500."""

import pytest

from tests.directory.search_helpers import ORIGIN, SEARCH


def _search(client, **params):
    return client.get(SEARCH, {"lat": ORIGIN[0], "lon": ORIGIN[1], **params})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("age", "²"),
        ("age", "٣"),
        ("limit", "²"),
        ("limit", "9" * 40),
        ("at", "9999-12-31T23:59:59"),
        ("at", "0001-01-01T00:00:00+14:00"),
        ("at", "0001-01-01T00:00:00"),
    ],
)
def test_it_refuses_a_hostile_parameter_naming_it(api_as, crew, name, value):
    answer = _search(api_as(crew), **{name: value})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert name in error["fields"]


def test_it_still_takes_a_plain_age_limit_and_time(api_as, crew):
    answer = _search(api_as(crew), age="84", limit="5", at="2026-06-10T12:00:00+01:00")
    assert answer.status_code == 200
