"""A process keeps where postcodes are, and forgets as soon as the tables behind it change."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import Postcode, PostcodeArea
from directory.postcodes import PRECISION_POSTCODE, place_at, postcode_locate
from tests.factories import borough


def test_it_answers_a_postcode_it_found_lately_without_a_query(db):
    first = postcode_locate("SW1A 1AA")

    with CaptureQueriesContext(connection) as queries:
        again = postcode_locate("sw1a1aa")

    assert again == first
    assert queries.captured_queries == []


def test_it_uses_a_postcode_row_saved_after_its_area_was_used(db):
    assert postcode_locate("SW1A 1AA").approximate

    Postcode.objects.create(
        postcode="SW1A 1AA", latitude=51.501, longitude=-0.1416, borough=borough("Westminster")
    )

    found = postcode_locate("SW1A 1AA")
    assert found.precision == PRECISION_POSTCODE
    assert (found.latitude, found.longitude) == (51.501, -0.1416)


def test_it_places_a_point_it_has_not_seen_without_a_query(db):
    place_at(51.5010, -0.1416)  # the areas are read once

    with CaptureQueriesContext(connection) as queries:
        place = place_at(51.3762, -0.0982)

    assert place.borough.name == "Croydon"
    assert queries.captured_queries == []


def test_it_places_a_point_by_an_area_saved_after_the_areas_were_read(db):
    point = (51.4600, -0.1000)
    assert place_at(*point).area != "ZZ9 9"

    PostcodeArea.objects.create(
        code="ZZ9 9",
        kind=PostcodeArea.Kind.SECTOR,
        latitude=point[0],
        longitude=point[1],
        borough=borough("Lambeth"),
    )

    assert place_at(*point).area == "ZZ9 9"
