"""A process keeps where postcodes are, and forgets as soon as the tables behind it change."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import Postcode
from directory.postcodes import PRECISION_POSTCODE, postcode_locate
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
