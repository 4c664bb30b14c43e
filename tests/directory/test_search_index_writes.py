"""Bare QuerySet writes on the directory keep the search's index rows in step."""

import pytest
from django.db.models import F

from directory.index import search_index_check
from directory.models import Location, OpeningSpan, Service, ServiceSearchEntry
from tests.directory.search_helpers import ids, place_service, point, search


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


def test_it_stops_listing_a_service_deactivated_by_a_bare_update(crew_api):
    gone = place_service(0.5)
    kept = place_service(1.0)

    Service.objects.filter(pk=gone.pk).update(active=False)

    assert ids(search(crew_api, category="falls")) == [kept.pk]


def test_it_lists_the_same_services_as_explain_after_a_bare_update(crew_api):
    gone = place_service(0.5)
    kept = place_service(1.0)

    Service.objects.filter(pk=gone.pk).update(active=False)

    plain = search(crew_api, category="falls").json()
    explained = search(crew_api, category="falls", explain="true").json()
    assert [r["id"] for r in plain["results"]] == [r["id"] for r in explained["results"]]
    assert [r["id"] for r in plain["results"]] == [kept.pk]
    assert {e["id"]: e["reason"] for e in explained["excluded"]} == {gone.pk: "inactive"}


def test_it_lists_a_service_again_once_a_bare_update_reactivates_it(crew_api):
    service = place_service(0.5, active=False)

    Service.objects.filter(active=False).update(active=True)

    assert ids(search(crew_api, category="falls")) == [service.pk]


def test_it_finds_a_service_where_a_bare_update_moved_its_site(crew_api):
    service = place_service(40.0)
    latitude, longitude = point(0.5)

    Location.objects.filter(pk=service.location_id).update(latitude=latitude, longitude=longitude)

    assert ids(search(crew_api, category="falls")) == [service.pk]


def test_it_reads_a_service_as_closed_once_its_weekly_hours_are_deleted(crew_api):
    service = place_service(0.5)

    OpeningSpan.objects.filter(service=service).delete()

    assert ids(search(crew_api, category="falls", open="true")) == []
    assert ids(search(crew_api, category="falls", open="false")) == [service.pk]


def test_it_follows_weekly_hours_changed_by_a_bare_update(crew_api):
    service = place_service(0.5)  # open 24/7; AT is a Wednesday noon

    OpeningSpan.objects.filter(service=service).update(opens="20:00", closes="22:00")

    assert ids(search(crew_api, category="falls", open="true")) == []


def test_it_leaves_no_drift_after_bare_updates_of_every_indexed_kind(db):
    service = place_service(0.5)
    Service.objects.filter(pk=service.pk).update(min_age=18, sexes=["female"], capacity_slots=3)
    Location.objects.update(latitude=51.52)
    OpeningSpan.objects.filter(weekday=0).update(opens="08:00", closes="18:00")

    assert search_index_check().differences == []
    assert ServiceSearchEntry.objects.get().min_age == 18


def test_it_changes_only_the_rows_it_was_asked_to(db):
    full = place_service(0.5, capacity_slots=0)
    counted = place_service(1.0, capacity_slots=2)

    taken = Service.objects.filter(capacity_slots__gt=0).update(
        capacity_slots=F("capacity_slots") - 1
    )

    assert taken == 1
    assert ServiceSearchEntry.objects.get(service=counted).capacity_slots == 1
    assert ServiceSearchEntry.objects.get(service=full).capacity_slots == 0
