from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import DomainError
from directory.services import capacity_set
from tests.directory.search_helpers import AT, ids, place_service, search
from tests.factories import ServiceFactory


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


def test_it_reads_expired_capacity_as_unknown_with_no_slots(crew_api):
    service = place_service(1.0, capacity_slots=4, capacity_expires_at=AT - timedelta(seconds=1))
    [result] = search(crew_api, category="falls").json()["results"]
    assert result["id"] == service.pk
    assert result["capacity"]["status"] == "UNKNOWN"
    assert result["capacity"]["slots"] is None


def test_it_leaves_out_a_service_with_no_slots_left_while_that_is_live(crew_api):
    full = place_service(1.0, capacity_slots=0)
    stale_full = place_service(1.1, capacity_slots=0, capacity_expires_at=AT - timedelta(hours=1))
    one_left = place_service(1.2, capacity_slots=1)

    assert ids(search(crew_api, category="falls")) == [one_left.pk, stale_full.pk]
    excluded = search(crew_api, category="falls", explain="true").json()["excluded"]
    assert excluded == [{"id": full.pk, "name": full.name, "distance_km": 1.0, "reason": "full"}]


def test_it_sets_capacity_with_the_default_expiry_and_records_who(partner, settings):
    service = ServiceFactory(organisation=partner.organisation)
    before = timezone.now()

    capacity_set(service=service, user=partner, status="AMBER", slots=2)

    service.refresh_from_db()
    assert service.capacity_status == "AMBER"
    assert service.capacity_slots == 2
    assert service.capacity_updated_by == partner
    assert service.capacity_updated_at >= before
    expected = service.capacity_updated_at + timedelta(
        minutes=settings.CAPACITY_DEFAULT_TTL_MINUTES
    )
    assert service.capacity_expires_at == expected


def test_it_sets_capacity_through_the_api(api_as, partner):
    service = ServiceFactory(organisation=partner.organisation)
    answer = api_as(partner).put(
        f"/api/v1/services/{service.pk}/capacity/",
        {"status": "RED", "slots": 0, "expires_in_minutes": 15},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["capacity"]["status"] == "RED"
    assert answer.json()["capacity"]["slots"] == 0
    service.refresh_from_db()
    assert service.capacity_expires_at - service.capacity_updated_at == timedelta(minutes=15)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"status": "PURPLE"}, "status"),
        ({}, "status"),
        ({"status": "GREEN", "slots": -1}, "slots"),
        ({"status": "GREEN", "slots": "many"}, "slots"),
        ({"status": "GREEN", "expires_in_minutes": 14}, "expires_in_minutes"),
        ({"status": "GREEN", "expires_in_minutes": 120 * 60 + 1}, "expires_in_minutes"),
    ],
)
def test_it_refuses_bad_capacity_naming_the_field_and_changes_nothing(api_as, partner, body, field):
    service = ServiceFactory(organisation=partner.organisation, capacity_status="GREEN")
    answer = api_as(partner).put(f"/api/v1/services/{service.pk}/capacity/", body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]
    service.refresh_from_db()
    assert service.capacity_status == "GREEN"


def test_the_service_refuses_bad_capacity_from_the_admin_or_pages_too(partner):
    service = ServiceFactory(organisation=partner.organisation)
    with pytest.raises(DomainError) as refused:
        capacity_set(service=service, user=partner, status="GREEN", expires_in_minutes=10)
    assert "expires_in_minutes" in refused.value.fields


def test_it_refuses_a_slot_count_past_the_bound_and_changes_nothing(api_as, partner, provider):
    from tests.factories import ServiceFactory

    service = ServiceFactory(organisation=provider, capacity_status="GREEN")
    answer = api_as(partner).put(
        f"/api/v1/services/{service.pk}/capacity/",
        {"status": "RED", "slots": 3_000_000_000},
        format="json",
    )
    assert answer.status_code == 400
    assert "slots" in answer.json()["error"]["fields"]
    service.refresh_from_db()
    assert service.capacity_status == "GREEN"
