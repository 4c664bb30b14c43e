"""The admin's capacity (from the service list and the change form) and its hours inlines:
what a partner sets there is what the search then shows."""

from datetime import timedelta

from django.utils import timezone

from directory.models import Capacity, Service, WeeklyWindow
from directory.services import CAPACITY_MAX_SLOTS
from tests.directory.admin_forms import SERVICES, browser, capacity_list_data, change_form_data

# --- capacity from the list ------------------------------------------------------------


def test_it_sets_capacity_from_the_list_and_records_who(staff_partner, own_service):
    before = timezone.now()
    answer = browser(staff_partner).post(
        SERVICES, capacity_list_data([own_service], **{str(own_service.pk): ("AMBER", 2)})
    )
    assert answer.status_code == 302
    own_service.refresh_from_db()
    assert own_service.capacity_status == Capacity.AMBER
    assert own_service.capacity_slots == 2
    assert own_service.capacity_updated_by == staff_partner
    assert own_service.capacity_updated_at >= before
    assert own_service.capacity_at() == Capacity.AMBER


def test_it_refuses_unknown_as_a_reported_capacity(staff_partner, own_service):
    answer = browser(staff_partner).post(
        SERVICES, capacity_list_data([own_service], **{str(own_service.pk): ("UNKNOWN", None)})
    )
    assert answer.status_code == 200  # the list again, with the error
    own_service.refresh_from_db()
    assert own_service.capacity_status == Capacity.GREEN


def test_it_renews_capacity_for_the_minutes_given_on_the_change_form(staff_partner, own_service):
    browser(staff_partner).post(
        f"{SERVICES}{own_service.pk}/change/",
        change_form_data(own_service, capacity_status="RED", capacity_expires_in_minutes="30"),
    )
    own_service.refresh_from_db()
    assert own_service.capacity_status == Capacity.RED
    assert own_service.capacity_updated_by == staff_partner
    left = own_service.capacity_expires_at - timezone.now()
    assert timedelta(minutes=25) < left <= timedelta(minutes=30)


def test_it_leaves_capacity_alone_when_other_fields_change(operator, own_service):
    set_at = timezone.now() - timedelta(hours=1)
    Service.objects.filter(pk=own_service.pk).update(capacity_updated_at=set_at)
    own_service.refresh_from_db()
    browser(operator).post(
        f"{SERVICES}{own_service.pk}/change/", change_form_data(own_service, name="Renamed")
    )
    own_service.refresh_from_db()
    assert own_service.name == "Renamed"
    assert own_service.capacity_updated_at == set_at
    assert own_service.capacity_updated_by is None


def test_it_refuses_slots_past_the_limit_on_the_change_form_and_saves_nothing(
    staff_partner, own_service
):
    answer = browser(staff_partner).post(
        f"{SERVICES}{own_service.pk}/change/",
        change_form_data(own_service, name="Renamed", capacity_slots=CAPACITY_MAX_SLOTS + 1),
    )
    assert answer.status_code == 200  # the form again, with the error on the slots
    assert f"Slots left must be a whole number, 0 to {CAPACITY_MAX_SLOTS}" in (
        answer.content.decode()
    )
    own_service.refresh_from_db()
    assert own_service.name == "Alpha Falls Team"
    assert own_service.capacity_slots != CAPACITY_MAX_SLOTS + 1


def test_it_refuses_slots_past_the_limit_from_the_list(staff_partner, own_service):
    answer = browser(staff_partner).post(
        SERVICES,
        capacity_list_data(
            [own_service], **{str(own_service.pk): ("AMBER", CAPACITY_MAX_SLOTS + 1)}
        ),
    )
    assert answer.status_code == 200  # the list again, with the error
    assert "Slots left must be a whole number" in answer.content.decode()
    own_service.refresh_from_db()
    assert own_service.capacity_status == Capacity.GREEN


# --- hours inline ----------------------------------------------------------------------


def test_it_shows_hours_and_exceptions_on_the_partners_service_page(staff_partner, own_service):
    page = browser(staff_partner).get(f"{SERVICES}{own_service.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="opening_spans-TOTAL_FORMS" value="7"' in html
    assert 'name="opening_exceptions-TOTAL_FORMS"' in html


def test_it_saves_weekly_hours_and_exceptions_from_the_inlines(staff_partner, own_service):
    own_service.opening_spans.all().delete()
    data = change_form_data(own_service)
    data.update(
        {
            "opening_spans-TOTAL_FORMS": 2,
            "opening_spans-0-weekday": 0,
            "opening_spans-0-opens": "09:00",
            "opening_spans-0-closes": "17:00",
            "opening_spans-1-weekday": 4,
            "opening_spans-1-opens": "20:00",
            "opening_spans-1-closes": "08:00",
            "opening_exceptions-TOTAL_FORMS": 1,
            "opening_exceptions-0-date": "2030-12-24",
            "opening_exceptions-0-closed": "on",
            "opening_exceptions-0-note": "Staff training",
        }
    )
    answer = browser(staff_partner).post(f"{SERVICES}{own_service.pk}/change/", data)
    assert answer.status_code == 302
    spans = [
        (s.weekday, f"{s.opens:%H:%M}", f"{s.closes:%H:%M}")
        for s in own_service.opening_spans.all()
    ]
    assert spans == [(0, "09:00", "17:00"), (4, "20:00", "08:00")]
    assert own_service.opening_exceptions.get().note == "Staff training"
    # The search reads the new hours: Monday 09:00-17:00 and Friday night into Saturday.
    windows = set(WeeklyWindow.objects.filter(service=own_service).values_list("starts", "ends"))
    assert windows == {(9 * 60, 17 * 60), (4 * 1440 + 20 * 60, 5 * 1440 + 8 * 60)}


def test_it_refuses_an_open_exception_without_hours(staff_partner, own_service):
    data = change_form_data(own_service)
    data.update(
        {
            "opening_exceptions-TOTAL_FORMS": 1,
            "opening_exceptions-0-date": "2030-12-24",
            "opening_exceptions-0-note": "Half day",
        }
    )
    answer = browser(staff_partner).post(f"{SERVICES}{own_service.pk}/change/", data)
    assert answer.status_code == 200
    assert not own_service.opening_exceptions.exists()
