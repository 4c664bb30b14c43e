"""The search judges candidates from copies on its index rows; the copies must not mislead."""

from datetime import timedelta

import pytest

from directory.index import service_index_rebuild
from directory.models import Capacity
from directory.services import capacity_set
from tests.directory.search_helpers import AT, ids, place_service, search
from tests.factories import category


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


def _services_of_every_kind():
    return [
        place_service(0.3, hours=[]),
        place_service(0.4, capacity=Capacity.RED),
        place_service(0.5, min_age=18, max_age=64),
        place_service(0.6, sexes=["female"]),
        place_service(0.7, capacity_slots=0),
        place_service(0.8, active=False),
        place_service(0.9, capacity=Capacity.AMBER),
        place_service(1.0, capacity_expires_at=AT - timedelta(minutes=1)),
        place_service(1.1, categories=[category("falls"), category("frailty")]),
    ]


def test_it_lists_the_same_services_with_explain_as_without(crew_api):
    closed, red, _, _, _, _, amber, unknown, both = _services_of_every_kind()
    asked = {"category": ["falls", "frailty"], "age": 70, "sex": "male"}
    expected = [both.pk, amber.pk, unknown.pk, red.pk, closed.pk]

    assert ids(search(crew_api, **asked)) == expected
    assert ids(search(crew_api, explain="true", **asked)) == expected


def test_it_follows_capacity_set_after_the_service_was_indexed(crew_api, operator):
    near = place_service(0.5, capacity=Capacity.GREEN)
    far = place_service(1.0, capacity=Capacity.GREEN)
    assert ids(search(crew_api, category="falls")) == [near.pk, far.pk]

    capacity_set(service=near, user=operator, status=Capacity.RED)
    assert ids(search(crew_api, category="falls", at=near.capacity_updated_at.isoformat())) == [
        far.pk,
        near.pk,
    ]

    capacity_set(service=far, user=operator, status=Capacity.GREEN, slots=0)
    assert ids(search(crew_api, category="falls", at=far.capacity_updated_at.isoformat())) == [
        near.pk
    ]


def test_it_follows_eligibility_changed_once_the_index_is_rebuilt(crew_api):
    service = place_service(0.5)
    service.min_age = 65
    service.save()
    service_index_rebuild(service=service)  # as the admin does after saving

    assert ids(search(crew_api, category="falls", age=40)) == []
    assert ids(search(crew_api, category="falls", age=70)) == [service.pk]


def test_it_fills_a_page_of_open_services_before_any_closed_one(crew_api):
    closed = [place_service(0.1 + n / 100, hours=[]) for n in range(3)]
    open_ = [place_service(2.0 + n / 10) for n in range(4)]

    assert ids(search(crew_api, category="falls", limit=5)) == [s.pk for s in open_] + [
        closed[0].pk
    ]
    assert ids(search(crew_api, category="falls", limit=3)) == [s.pk for s in open_[:3]]
