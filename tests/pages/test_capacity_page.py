import re
from datetime import timedelta

from django.utils import timezone

from directory.models import Capacity, Service
from tests.factories import ServiceFactory


def test_it_lists_every_service_of_the_organisation_and_no_other(
    as_user, partner, service, other_provider, provider
):
    ServiceFactory(organisation=provider, name="Alpha Night Nursing")
    ServiceFactory(organisation=other_provider, name="Beta Falls")
    page = as_user(partner).get("/capacity/").content.decode()
    assert "Alpha Falls Response" in page and "Alpha Night Nursing" in page
    assert "Beta Falls" not in page


def test_it_sets_a_status_in_one_tap(as_user, partner, service):
    client = as_user(partner)
    answer = client.post(
        f"/capacity/{service.pk}/", {"status": "AMBER", "slots": "2", "expires_in_minutes": "120"}
    )
    assert answer.status_code == 302
    service.refresh_from_db()
    assert service.capacity_status == Capacity.AMBER
    assert service.capacity_slots == 2
    assert service.capacity_updated_by == partner
    page = client.get("/capacity/").content.decode()
    assert "capacity set to Amber" in page
    assert 'data-capacity="AMBER"' in page


def test_it_sets_a_status_without_slots(as_user, partner, service):
    as_user(partner).post(f"/capacity/{service.pk}/", {"status": "RED", "slots": ""})
    service.refresh_from_db()
    assert (service.capacity_status, service.capacity_slots) == (Capacity.RED, None)


def test_it_names_bad_slots_and_changes_nothing(as_user, partner, service):
    answer = as_user(partner).post(f"/capacity/{service.pk}/", {"status": "RED", "slots": "-1"})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert f'<a href="#slots-{service.pk}">' in page
    assert 'value="-1"' in page
    assert Service.objects.get().capacity_status == Capacity.GREEN


def test_it_answers_404_for_another_organisations_service(
    as_user, partner, other_provider, postcode
):
    theirs = ServiceFactory(organisation=other_provider)
    answer = as_user(partner).post(f"/capacity/{theirs.pk}/", {"status": "RED"})
    assert answer.status_code == 404
    theirs.refresh_from_db()
    assert theirs.capacity_status == Capacity.GREEN


def test_it_keeps_the_capacity_page_from_crews(as_user, crew, service):
    assert as_user(crew).get("/capacity/").status_code == 403
    assert as_user(crew).post(f"/capacity/{service.pk}/", {"status": "RED"}).status_code == 403


def test_it_fills_the_slots_box_with_the_slots_left_so_a_tap_keeps_them(as_user, partner, service):
    client = as_user(partner)
    client.post(f"/capacity/{service.pk}/", {"status": "AMBER", "slots": "3"})
    page = client.get("/capacity/").content.decode()
    assert re.search(rf'<input[^>]*id="slots-{service.pk}"[^>]*value="3"', page)
    # Tapping Red posts the box as shown: the count stays.
    client.post(f"/capacity/{service.pk}/", {"status": "RED", "slots": "3"})
    service.refresh_from_db()
    assert (service.capacity_status, service.capacity_slots) == (Capacity.RED, 3)


def test_it_leaves_the_slots_box_empty_when_capacity_has_expired(as_user, partner, service):
    Service.objects.filter(pk=service.pk).update(
        capacity_slots=4, capacity_expires_at=timezone.now() - timedelta(minutes=1)
    )
    page = as_user(partner).get("/capacity/").content.decode()
    assert re.search(rf'<input[^>]*id="slots-{service.pk}"[^>]*value=""', page)
