"""The admin: partners keep only their own organisation's listings; operators see all."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from directory.models import Capacity, OpeningSpan, Service, WeeklyWindow
from tests.factories import ServiceFactory, category

SERVICES = "/admin/directory/service/"


@pytest.fixture
def staff_partner(partner):
    partner.is_staff = True
    partner.save(update_fields=["is_staff"])
    return partner


@pytest.fixture
def own_service(provider):
    return ServiceFactory(organisation=provider, name="Alpha Falls Team")


@pytest.fixture
def foreign_service(other_provider):
    return ServiceFactory(organisation=other_provider, name="Beta Crisis Cafe")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_form_data(service: Service, **overrides) -> dict:
    """What the service change form posts, with no hours or exceptions rows."""
    data = {
        "organisation": service.organisation_id,
        "name": service.name,
        "public_name": service.public_name,
        "description": service.description,
        "location": service.location_id,
        "active": "on",
        "categories": [c.pk for c in service.categories.all()] if service.pk else [],
        "min_age": "",
        "max_age": "",
        "inclusion_criteria": "",
        "exclusion_criteria": "",
        "phone": "",
        "professional_phone": "",
        "referral_instructions": "",
        "referral_roles": ["crew"],
        "acknowledge_within_minutes": 30,
        "answer_within_minutes": 120,
        "bank_holiday_hours": "normal",
        "capacity_status": service.capacity_status,
        "capacity_slots": "" if service.capacity_slots is None else service.capacity_slots,
        "capacity_expires_in_minutes": "",
    }
    for prefix in ("opening_spans", "opening_exceptions"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    data.update(overrides)
    return data


def capacity_list_data(services, **values_by_id) -> dict:
    """The service list's list_editable formset, changing the rows named by id."""
    data = {
        "form-TOTAL_FORMS": len(services),
        "form-INITIAL_FORMS": len(services),
        "form-MIN_NUM_FORMS": 0,
        "form-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for i, service in enumerate(services):
        status, slots = values_by_id.get(
            str(service.pk), (service.capacity_status, service.capacity_slots)
        )
        data[f"form-{i}-id"] = service.pk
        data[f"form-{i}-capacity_status"] = status
        data[f"form-{i}-capacity_slots"] = "" if slots is None else slots
    return data


# --- who may use the admin -------------------------------------------------------------


def test_it_lets_partners_and_operators_into_the_admin(staff_partner, operator):
    assert browser(staff_partner).get("/admin/").status_code == 200
    assert browser(operator).get("/admin/").status_code == 200


@pytest.mark.parametrize("who", ["crew", "planner"])
def test_it_keeps_crews_and_planners_out_even_with_staff_status(db, request, who):
    user = request.getfixturevalue(who)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    answer = browser(user).get(SERVICES)
    assert answer.status_code == 302
    assert answer["Location"].startswith("/admin/login/")


def test_it_refuses_the_admin_login_form_to_a_crew(crew):
    from tests.factories import TEST_PASSWORD

    crew.is_staff = True
    crew.save(update_fields=["is_staff"])
    client = Client()
    client.post("/admin/login/", {"username": crew.username, "password": TEST_PASSWORD})
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "path",
    ["/admin/directory/user/", "/admin/directory/organisation/", "/admin/directory/category/"],
)
def test_it_keeps_partners_out_of_operator_pages(staff_partner, path):
    assert browser(staff_partner).get(path).status_code == 403


def test_it_shows_partners_only_their_own_modules(staff_partner):
    index = browser(staff_partner).get("/admin/").content.decode()
    assert "/admin/directory/service/" in index
    assert "/admin/directory/location/" in index
    assert "/admin/directory/user/" not in index
    assert "/admin/directory/organisation/" not in index


# --- partners see and change only their own --------------------------------------------


def test_it_lists_only_the_partners_own_services(staff_partner, own_service, foreign_service):
    page = browser(staff_partner).get(SERVICES).content.decode()
    assert "Alpha Falls Team" in page
    assert "Beta Crisis Cafe" not in page
    # Nor do other organisations' names leak through the list filters.
    assert foreign_service.organisation.name not in page


def test_it_lists_every_service_for_an_operator(operator, own_service, foreign_service):
    page = browser(operator).get(SERVICES).content.decode()
    assert "Alpha Falls Team" in page
    assert "Beta Crisis Cafe" in page


def test_it_answers_404_for_another_organisations_service(staff_partner, foreign_service):
    client = browser(staff_partner)
    assert client.get(f"{SERVICES}{foreign_service.pk}/change/").status_code == 404
    assert client.get(f"{SERVICES}{foreign_service.pk}/delete/").status_code == 404


def test_it_changes_nothing_when_a_partner_posts_to_another_organisations_service(
    staff_partner, foreign_service
):
    answer = browser(staff_partner).post(
        f"{SERVICES}{foreign_service.pk}/change/",
        change_form_data(foreign_service, name="Hijacked", capacity_status="RED"),
    )
    assert answer.status_code == 404
    foreign_service.refresh_from_db()
    assert foreign_service.name == "Beta Crisis Cafe"
    assert foreign_service.capacity_status == Capacity.GREEN


def test_it_ignores_another_organisations_rows_in_the_capacity_list(
    staff_partner, own_service, foreign_service
):
    data = capacity_list_data([foreign_service], **{str(foreign_service.pk): ("RED", 0)})
    browser(staff_partner).post(SERVICES, data)
    foreign_service.refresh_from_db()
    assert foreign_service.capacity_status == Capacity.GREEN
    assert foreign_service.capacity_slots is None


def test_it_refuses_to_move_a_service_to_another_organisation(
    staff_partner, own_service, other_provider
):
    answer = browser(staff_partner).post(
        f"{SERVICES}{own_service.pk}/change/",
        change_form_data(own_service, organisation=other_provider.pk),
    )
    assert answer.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in answer.content.decode()
    own_service.refresh_from_db()
    assert own_service.organisation_id == staff_partner.organisation_id


def test_it_refuses_another_organisations_site(staff_partner, own_service, foreign_service):
    answer = browser(staff_partner).post(
        f"{SERVICES}{own_service.pk}/change/",
        change_form_data(own_service, location=foreign_service.location_id),
    )
    assert answer.status_code == 200
    own_service.refresh_from_db()
    assert own_service.location_id != foreign_service.location_id


def test_it_offers_partners_only_their_own_organisation_and_sites(
    staff_partner, own_service, foreign_service
):
    form = browser(staff_partner).get(f"{SERVICES}add/").context["adminform"].form
    assert list(form.fields["organisation"].queryset) == [own_service.organisation]
    assert list(form.fields["location"].queryset) == [own_service.location]


def test_it_saves_a_partners_edit_of_their_own_service(staff_partner, own_service):
    answer = browser(staff_partner).post(
        f"{SERVICES}{own_service.pk}/change/",
        change_form_data(own_service, name="Alpha Falls and Frailty", min_age="65"),
    )
    assert answer.status_code == 302
    own_service.refresh_from_db()
    assert own_service.name == "Alpha Falls and Frailty"
    assert own_service.min_age == 65


def test_it_lets_a_partner_add_a_service_at_their_own_site(staff_partner, own_service):
    service = Service(
        organisation=own_service.organisation, location=own_service.location, name="New"
    )
    data = change_form_data(
        service, name="Alpha Night Nursing", categories=[category("district-nursing").pk]
    )
    data["capacity_status"] = "UNKNOWN"
    answer = browser(staff_partner).post(f"{SERVICES}add/", data)
    assert answer.status_code == 302
    created = Service.objects.get(name="Alpha Night Nursing")
    assert created.organisation_id == staff_partner.organisation_id


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


# --- sites ---------------------------------------------------------------------------


def test_it_scopes_sites_like_services(staff_partner, own_service, foreign_service):
    client = browser(staff_partner)
    page = client.get("/admin/directory/location/").content.decode()
    assert own_service.location.name in page
    assert foreign_service.location.name not in page
    url = f"/admin/directory/location/{foreign_service.location_id}/change/"
    assert client.get(url).status_code == 404


def test_it_moves_a_sites_services_in_the_search_when_the_site_moves(staff_partner, own_service):
    location = own_service.location
    answer = browser(staff_partner).post(
        f"/admin/directory/location/{location.pk}/change/",
        {
            "organisation": location.organisation_id,
            "name": location.name,
            "address": location.address,
            "postcode": "sw1a 2aa",
            "latitude": "51.5034",
            "longitude": "-0.1276",
            "borough": location.borough_id,
        },
    )
    assert answer.status_code == 302
    location.refresh_from_db()
    assert location.postcode == "SW1A 2AA"
    entry = own_service.search_entries.get()
    assert (entry.latitude, entry.longitude) == (51.5034, -0.1276)


def test_it_only_lets_a_partner_create_sites_for_their_own_organisation(
    staff_partner, other_provider
):
    answer = browser(staff_partner).post(
        "/admin/directory/location/add/",
        {
            "organisation": other_provider.pk,
            "name": "Sneaky",
            "address": "1 Nowhere Lane",
            "postcode": "SW1A 1AA",
            "latitude": "51.501",
            "longitude": "-0.141",
            "borough": "E09000033",
        },
    )
    assert answer.status_code == 200
    assert not other_provider.locations.filter(name="Sneaky").exists()


def test_it_leaves_operators_free_to_edit_any_service(operator, foreign_service):
    answer = browser(operator).post(
        f"{SERVICES}{foreign_service.pk}/change/",
        change_form_data(foreign_service, name="Beta Crisis Cafe (renamed)"),
    )
    assert answer.status_code == 302
    foreign_service.refresh_from_db()
    assert foreign_service.name == "Beta Crisis Cafe (renamed)"
    assert OpeningSpan.objects.filter(service=foreign_service).count() == 7


@pytest.mark.parametrize(
    "model", ["service", "location", "organisation", "user", "category", "borough", "postcode"]
)
def test_it_opens_every_directory_page_for_an_operator(operator, own_service, model):
    client = browser(operator)
    assert client.get(f"/admin/directory/{model}/").status_code == 200
    assert client.get(f"/admin/directory/{model}/add/").status_code == 200


def test_it_opens_a_users_page_for_an_operator(operator, staff_partner):
    page = browser(operator).get(f"/admin/directory/user/{staff_partner.pk}/change/")
    assert page.status_code == 200
    assert "organisation" in page.context["adminform"].form.fields


def test_it_does_not_let_an_operator_make_a_superuser(operator, staff_partner):
    form = browser(operator).get(f"/admin/directory/user/{staff_partner.pk}/change/")
    assert "is_superuser" not in form.context["adminform"].form.fields
