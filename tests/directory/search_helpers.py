"""Builders for the search tests: services placed at a distance and bearing from a point."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from geopy.distance import geodesic

from directory.index import service_index_rebuild
from directory.models import Capacity
from tests.factories import LocationFactory, ServiceFactory

LONDON = ZoneInfo("Europe/London")
# A Wednesday in June: no bank holiday or clock change near.
AT = datetime(2026, 6, 10, 12, 0, tzinfo=LONDON)
ORIGIN = (51.5010, -0.1416)  # Buckingham Palace, Westminster
SEARCH = "/api/v1/services/search/"


def point(km: float, bearing: float = 90.0) -> tuple[float, float]:
    destination = geodesic(kilometers=km).destination(ORIGIN, bearing)
    return destination.latitude, destination.longitude


def place_service(
    km: float = 1.0, *, bearing: float = 90.0, capacity=Capacity.GREEN, covers=(), **kwargs
):
    """A service km from ORIGIN, open 24/7, with capacity live at AT unless told otherwise.

    covers: boroughs the service is limited to, saved as the admin saves them (then the
    search index is rebuilt)."""
    latitude, longitude = point(km, bearing)
    kwargs.setdefault("capacity_status", capacity)
    kwargs.setdefault("capacity_updated_at", AT - timedelta(minutes=5))
    kwargs.setdefault("capacity_expires_at", AT + timedelta(hours=4))
    organisation = kwargs.pop("organisation", None)
    extra = {"organisation": organisation} if organisation else {}
    location = LocationFactory(latitude=latitude, longitude=longitude, **extra)
    service = ServiceFactory(location=location, organisation=location.organisation, **kwargs)
    if covers:
        service.boroughs_covered.set(covers)
        service_index_rebuild(service=service)
    return service


def search(client, **params):
    params.setdefault("lat", ORIGIN[0])
    params.setdefault("lon", ORIGIN[1])
    params.setdefault("at", AT.isoformat())
    return client.get(SEARCH, params)


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content
    return [r["id"] for r in answer.json()["results"]]
