"""The API's JSON renderer writes exactly what DRF's own renderer writes."""

import datetime
import decimal
import uuid

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from config.renderers import JSONRenderer

LONDON_SUMMER = datetime.timezone(datetime.timedelta(hours=1))


def _answer() -> dict:
    return {
        "at_utc": datetime.datetime(2026, 6, 8, 9, 30, 15, 123456, tzinfo=datetime.UTC),
        "at_local": datetime.datetime(2026, 6, 8, 10, 30, tzinfo=LONDON_SUMMER),
        "day": datetime.date(2026, 6, 8),
        "opens": datetime.time(8, 0),
        "slots": decimal.Decimal("2.50"),
        "id": uuid.UUID("10e52bd6-481c-4cc9-9898-7fb621cfffc1"),
        "message": gettext_lazy("Invalid token."),
        "distance_km": 1.234,
        "name": "Café Falls Response\u2028line",
        "results": [{"open_now": True, "next_change": None, "categories": ("falls",)}],
    }


def test_it_writes_the_same_bytes_as_drfs_renderer():
    assert JSONRenderer().render(_answer()) == DrfJSONRenderer().render(_answer())


def test_it_indents_when_the_client_asks_as_drf_does():
    media_type = "application/json; indent=2"
    assert JSONRenderer().render(_answer(), media_type) == DrfJSONRenderer().render(
        _answer(), media_type
    )
