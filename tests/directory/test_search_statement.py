"""The search's main statement, compiled once per shape of search: each later search of
that shape must send exactly what the ORM would build for it, with its own values."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from directory.hours import LONDON
from directory.models import OpeningException
from directory.search import (
    Moment,
    SearchQuery,
    candidates_queryset,
    fast_rows_sql,
    fast_rows_statement,
    statement,
)
from directory.search.results import _page_queryset, _page_rows
from directory.selectors import exceptions_window
from directory.timing import Group
from tests.directory.search_helpers import AT, ORIGIN, ids, place_service, point, search
from tests.factories import borough, category

pytestmark = pytest.mark.django_db

# A clock change (Sunday 29 March 2026) and a bank holiday (Monday 25 May 2026).
CLOCK_CHANGE = datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)
BANK_HOLIDAY = datetime(2026, 5, 25, 9, 0, tzinfo=LONDON)

SHAPES = {
    "plain": {},
    "one category and an age": {"categories": ["falls"], "age": 40},
    "two categories, a sex and a borough": {
        "categories": ["falls", "frailty"],
        "sex": "female",
        "borough": "Westminster",
    },
    "an unknown sex": {"categories": ["falls"], "sex": "unknown"},
    "within 4 hours late on Sunday": {
        "at": datetime(2026, 6, 14, 22, 0, tzinfo=LONDON),
        "within": 240,
    },
    "a clock change": {"at": CLOCK_CHANGE, "age": 70},
    "a bank holiday": {"at": BANK_HOLIDAY, "categories": ["falls"]},
}


def _query(lat: float, lon: float, age_step: int, **shape) -> SearchQuery:
    age = shape.get("age")
    name = shape.get("borough")
    return SearchQuery(
        latitude=lat,
        longitude=lon,
        radius_km=5.0 + age_step,
        categories=shape.get("categories", []),
        age=None if age is None else age + age_step,
        sex=shape.get("sex"),
        at=shape.get("at", AT),
        within=shape.get("within", 0),
        origin_borough=borough(name) if name else None,
    )


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("group", [Group.OPEN, Group.LATER, Group.CLOSED])
def test_it_sends_each_search_of_a_shape_the_statement_the_orm_builds_for_it(shape, group):
    category("falls")  # the taxonomy is loaded
    for step, (lat, lon) in enumerate([ORIGIN, (51.55, -0.05), (51.42, -0.3)]):
        query = _query(lat, lon, step, **shape)
        moment = Moment.of(query.at, query.within)
        for with_uncertain in (True, False):
            candidates = candidates_queryset(
                query, moment, categories=query.categories, radius_km=query.radius_km
            )
            built = fast_rows_sql(
                query, moment, candidates, limit=7, group=group, with_uncertain=with_uncertain
            )
            sent = fast_rows_statement(
                query,
                moment,
                radius_km=query.radius_km,
                limit=7,
                group=group,
                with_uncertain=with_uncertain,
            )
            assert sent == built
    # The statements above came from the shape's compiled parts, not compiled afresh.
    assert None not in statement._compiled.values()


def test_it_finds_each_search_its_own_services_when_the_shape_repeats(client, crew):
    here = place_service(1.0, min_age=18)
    there = place_service(30.0, bearing=0.0)
    far_lat, far_lon = point(30.0, 0.0)
    client.force_login(crew)

    assert ids(search(client, radius_km=5, age=40)) == [here.pk]
    assert ids(search(client, radius_km=5, age=40, lat=far_lat, lon=far_lon)) == [there.pk]
    assert ids(search(client, radius_km=5, age=10)) == []


def test_it_reads_each_page_of_a_size_as_the_orm_reads_it():
    services = [place_service(km) for km in (1.0, 2.0, 3.0, 4.0)]
    OpeningException.objects.create(
        service=services[2], date=AT.date(), closed=False, opens=time(8), closes=time(18)
    )
    window = exceptions_window(AT)
    for page in ([services[0].pk, services[1].pk], [services[3].pk, services[2].pk]):
        assert _page_rows(page, AT) == list(_page_queryset(page, window))
