"""The admin: partners keep only their own organisation's listings; operators see all."""

import pytest
from django.test import Client

from directory.models import Capacity, OpeningSpan, Service
from tests.directory.admin_forms import SERVICES, browser, capacity_list_data, change_form_data
from tests.factories import category

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


def test_it_says_which_age_is_wrong_when_the_youngest_is_above_the_oldest(
    staff_partner, own_service
):
    answer = browser(staff_partner).post(
        f"{SERVICES}{own_service.pk}/change/",
        change_form_data(own_service, min_age="50", max_age="20"),
    )
    assert answer.status_code == 200  # the form again
    page = answer.content.decode()
    assert "The highest age must be at least the lowest age (50)." in page
    assert "service_age_range_ordered" not in page
    own_service.refresh_from_db()
    assert (own_service.min_age, own_service.max_age) != (50, 20)


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


def test_it_shows_operators_the_postcode_areas_read_only_and_keeps_partners_out(
    operator, staff_partner
):
    page = browser(operator).get("/admin/directory/postcodearea/", {"q": "SE1 7"})
    assert page.status_code == 200
    assert "Lambeth" in page.content.decode()
    assert browser(operator).get("/admin/directory/postcodearea/add/").status_code == 403
    assert browser(staff_partner).get("/admin/directory/postcodearea/").status_code == 403
