import re

from directory.models import Capacity, Role, SearchLog
from tests.factories import ServiceFactory, category


def _search(client, **params):
    params = {"searched": "1", "postcode": "SW1A 1AA", "open": "on", **params}
    return client.get("/search/", params)


def test_it_opens_with_open_now_ticked(as_user, crew):
    page = as_user(crew).get("/search/").content.decode()
    assert 'name="open" type="checkbox" value="on" checked' in page
    assert "Use my location" in page


def test_it_shows_a_card_per_service_with_capacity_age_and_a_refer_button(as_user, crew, service):
    answer = _search(as_user(crew), category="falls", age="84", sex="female")
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Alpha Falls Response" in page
    assert service.organisation.name in page
    assert "Taking referrals" in page
    assert "updated 12 min ago" in page
    assert "Open 24 hours" in page or "Open until" in page
    assert f'href="/refer/{service.pk}/?' in page
    assert "Cannot refer now" not in page


def test_it_says_capacity_unknown_when_the_status_has_expired(as_user, crew, service):
    service.capacity_expires_at = service.capacity_updated_at
    service.save()
    page = _search(as_user(crew)).content.decode()
    assert "Capacity unknown" in page
    assert "updated 12 min ago" not in page


def test_it_explains_why_a_nearby_service_is_not_shown(as_user, crew, service, provider):
    ServiceFactory(organisation=provider, name="Children Only Falls", min_age=0, max_age=17)
    page = _search(as_user(crew), age="84").content.decode()
    why = page.split("Why are some services not shown?")[1]
    assert "Children Only Falls" in why
    assert "age is outside" in why


def test_it_offers_the_nearest_emergency_department_when_nothing_fits(as_user, crew, service):
    ServiceFactory(name="St Example ED", categories=[category("emergency-department")])
    page = _search(as_user(crew), category="mental-health-crisis").content.decode()
    assert "Nearest emergency departments" in page
    assert "St Example ED" in page


def test_it_shows_a_postcode_error_by_the_field_and_keeps_what_was_typed(as_user, crew, db):
    answer = _search(as_user(crew), postcode="ZZ99 9ZZ", age="70")
    page = answer.content.decode()
    assert answer.status_code == 400
    assert '<a href="#id_postcode">' in page
    assert "nhsuk-form-group--error" in page
    assert 'value="70"' in page


def test_it_asks_for_the_whole_postcode_when_only_its_first_half_is_typed(as_user, crew, db):
    answer = _search(as_user(crew), postcode="se1")
    page = answer.content.decode()
    assert answer.status_code == 400
    assert '<a href="#id_postcode">Enter the whole postcode, not just SE1' in page
    assert "Enter a real postcode" not in page


def test_it_names_a_made_up_choice_once_by_its_field(as_user, crew, postcode):
    answer = _search(as_user(crew), sex="f", within="soon")
    page = answer.content.decode()
    assert answer.status_code == 400
    assert '<a href="#id_sex">' in page
    assert '<a href="#id_within">' in page
    assert "sex: Must be one of" not in page  # the API's wording, said a second time


def test_it_asks_for_a_postcode_or_location(as_user, crew, db):
    answer = _search(as_user(crew), postcode="")
    assert answer.status_code == 400
    assert "Enter a postcode, or use your location" in answer.content.decode()


def test_it_names_a_bad_age(as_user, crew, postcode):
    page = _search(as_user(crew), age="old").content.decode()
    assert '<a href="#id_age">Age must be a whole number' in page


def test_it_searches_from_the_devices_position(as_user, crew, service):
    page = _search(as_user(crew), postcode="", lat="51.5011", lon="-0.1417").content.decode()
    assert "Alpha Falls Response" in page


def test_it_lists_red_services_after_green_ones(as_user, crew, service, provider):
    ServiceFactory(organisation=provider, name="Red Falls", capacity_status=Capacity.RED)
    page = _search(as_user(crew)).content.decode()
    assert page.index("Alpha Falls Response") < page.index("Red Falls")


def test_it_writes_the_deidentified_search_log(as_user, crew, service):
    _search(as_user(crew), age="84")
    log = SearchLog.objects.get()
    assert log.postcode_district == "SW1A"
    assert log.age_band == "80+"


def test_it_keeps_the_search_to_crews(as_user, partner, planner):
    assert as_user(partner).get("/search/").status_code == 403
    assert as_user(planner).get("/search/").status_code == 403


def test_it_sends_a_signed_out_visitor_to_log_in(client, db):
    answer = client.get("/search/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/?next=/search/")


def _card(page: str, name: str) -> str:
    """The HTML of the result card headed with this service's name."""
    cards = re.findall(r'<div class="nhsuk-card[^"]*" data-service-id.*?</div>\n</div>', page, re.S)
    return next(card for card in cards if f">{name}</h3>" in card)


def test_it_carries_the_whole_search_in_each_refer_link(as_user, crew, service):
    page = _search(as_user(crew), category="falls", age="84", sex="female").content.decode()
    link = re.search(rf'href="/refer/{service.pk}/\?([^"]+)"', page).group(1)
    assert set(link.replace("&amp;", "&").split("&")) == {
        "searched=1",
        "postcode=SW1A+1AA",
        "open=on",
        "category=falls",
        "age=84",
        "sex=female",
    }


def test_it_offers_the_phone_not_refer_for_a_closed_service_and_says_why(
    as_user, crew, service, provider
):
    ServiceFactory(organisation=provider, name="Shut Falls", hours=[], phone="020 7946 0999")
    page = _search(as_user(crew), open="").content.decode()
    shut = _card(page, "Shut Falls")
    assert "Cannot refer now" in shut
    assert "Closed now" in shut
    assert 'href="tel:02079460999"' in shut
    assert "/refer/" not in shut
    assert "/refer/" in _card(page, "Alpha Falls Response")


def test_it_offers_refer_for_a_closed_service_that_takes_referrals_when_closed(
    as_user, crew, service, provider
):
    ServiceFactory(
        organisation=provider, name="Night Desk", hours=[], accepts_referrals_when_closed=True
    )
    page = _search(as_user(crew), open="").content.decode()
    assert "/refer/" in _card(page, "Night Desk")
    assert "Cannot refer now" not in _card(page, "Night Desk")


def test_it_does_not_offer_refer_where_crews_may_not_refer(as_user, crew, service, provider):
    ServiceFactory(organisation=provider, name="GP Line", referral_roles=[Role.PARTNER])
    page = _search(as_user(crew)).content.decode()
    assert "other professionals only" in _card(page, "GP Line")
    assert "/refer/" not in _card(page, "GP Line")


def test_it_lists_a_red_service_but_offers_the_phone_not_refer(as_user, crew, service, provider):
    ServiceFactory(
        organisation=provider, name="Red Falls", capacity_status=Capacity.RED, phone="020 7946 0888"
    )
    page = _search(as_user(crew)).content.decode()
    red = _card(page, "Red Falls")
    assert "Not taking referrals now" in red
    assert 'href="tel:02079460888"' in red
    assert "/refer/" not in red
    assert "/refer/" in _card(page, "Alpha Falls Response")
