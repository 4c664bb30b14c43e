"""Who may set a service's capacity: partners of the owning organisation and operators."""

import pytest

from tests.factories import ServiceFactory


@pytest.mark.parametrize(
    "who,expected",
    [
        ("partner", 200),
        ("operator", 200),
        ("other_partner", 403),
        ("crew", 403),
        ("planner", 403),
    ],
)
def test_it_lets_only_the_owning_partner_and_operators_set_capacity(
    request, api_as, provider, who, expected
):
    user = request.getfixturevalue(who)
    service = ServiceFactory(organisation=provider, capacity_status="GREEN", capacity_slots=5)
    before = (service.capacity_status, service.capacity_slots, service.capacity_updated_at)

    answer = api_as(user).put(
        f"/api/v1/services/{service.pk}/capacity/", {"status": "RED", "slots": 0}, format="json"
    )

    assert answer.status_code == expected
    service.refresh_from_db()
    after = (service.capacity_status, service.capacity_slots, service.capacity_updated_at)
    if expected == 200:
        assert service.capacity_status == "RED"
        assert service.capacity_updated_by == user
    else:
        assert after == before


@pytest.mark.parametrize("who", ["crew", "planner", "other_partner"])
def test_it_hides_an_inactive_service_from_everyone_but_its_owner(request, api_as, provider, who):
    service = ServiceFactory(organisation=provider, active=False, capacity_status="GREEN")
    user = request.getfixturevalue(who)
    answer = api_as(user).put(
        f"/api/v1/services/{service.pk}/capacity/", {"status": "RED"}, format="json"
    )
    assert answer.status_code == 404
    assert api_as(user).get(f"/api/v1/services/{service.pk}/").status_code == 404
    service.refresh_from_db()
    assert service.capacity_status == "GREEN"


def test_the_owner_still_sees_and_sets_an_inactive_service(api_as, partner):
    service = ServiceFactory(organisation=partner.organisation, active=False)
    answer = api_as(partner).put(
        f"/api/v1/services/{service.pk}/capacity/", {"status": "AMBER"}, format="json"
    )
    assert answer.status_code == 200


def test_it_refuses_anonymous_callers(client, provider):
    service = ServiceFactory(organisation=provider)
    answer = client.put(
        f"/api/v1/services/{service.pk}/capacity/",
        {"status": "RED"},
        content_type="application/json",
    )
    assert answer.status_code == 401
