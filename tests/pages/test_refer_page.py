import re
from datetime import timedelta

from django.utils import timezone

from directory.models import Role
from referrals.models import IdempotencyKey, Referral, Status
from tests.factories import ServiceFactory, UserFactory
from tests.referrals.factories import TEST_NHS_NUMBER

KEY = "6f1c0d9e3b2a4c5d8e7f6a5b4c3d2e1f"


def _form(**overrides) -> dict:
    data = {
        "idempotency_key": KEY,
        "given_name": "Ada",
        "family_name": "Testperson",
        "dob_day": "2",
        "dob_month": "3",
        "dob_year": "1941",
        "sex": "female",
        "nhs_number": TEST_NHS_NUMBER,
        "postcode": "SW1A 1AA",
        "category": "falls",
        "presenting_complaint": "Fall at home, no head injury",
        "mobility": "with_aid",
        "incident_reference": "CAD-123",
        "urgency": "within_4h",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_it_prefills_the_service_and_carries_an_idempotency_key(as_user, crew, service):
    page = as_user(crew).get(f"/refer/{service.pk}/").content.decode()
    assert "Refer to Alpha Falls Response" in page
    assert 'name="idempotency_key" value="' in page
    assert 'name="idempotency_key" value=""' not in page


def test_it_sends_the_referral_and_shows_its_status(as_user, crew, service):
    client = as_user(crew)
    answer = client.post(f"/refer/{service.pk}/", _form())
    referral = Referral.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/referrals/{referral.id}/"
    assert referral.status == Status.SENT
    assert referral.service == service
    assert referral.referring_user == crew
    assert str(referral.date_of_birth) == "1941-03-02"
    page = client.get(answer["Location"]).content.decode()
    assert 'data-status="sent"' in page


def test_it_creates_one_referral_for_a_double_tap(as_user, crew, service):
    client = as_user(crew)
    first = client.post(f"/refer/{service.pk}/", _form())
    second = client.post(f"/refer/{service.pk}/", _form())
    assert Referral.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_it_creates_two_referrals_for_two_forms(as_user, crew, service):
    client = as_user(crew)
    client.post(f"/refer/{service.pk}/", _form())
    client.post(f"/refer/{service.pk}/", _form(idempotency_key="another-form-key"))
    assert Referral.objects.count() == 2


def test_it_shows_every_missing_answer_by_its_field_and_keeps_what_was_typed(
    as_user, crew, service
):
    answer = as_user(crew).post(
        f"/refer/{service.pk}/",
        _form(given_name="", dob_day="", dob_month="", dob_year="", consent=None, phone="0770"),
    )
    page = answer.content.decode()
    assert answer.status_code == 400
    assert '<a href="#id_given_name">Enter the patient&#x27;s first name</a>' in page
    assert '<a href="#id_date_of_birth">Enter the patient&#x27;s date of birth</a>' in page
    assert '<a href="#id_consent">Confirm that the patient has given consent</a>' in page
    assert 'value="Testperson"' in page
    assert 'value="0770"' in page
    assert 'value="CAD-123"' in page
    assert f'value="{KEY}"' in page  # the same form keeps its key
    assert Referral.objects.count() == 0


def test_it_checks_the_nhs_number(as_user, crew, service):
    page = as_user(crew).post(f"/refer/{service.pk}/", _form(nhs_number="1234567890"))
    assert '<a href="#id_nhs_number">' in page.content.decode()
    assert Referral.objects.count() == 0


def test_it_refuses_a_date_that_does_not_exist(as_user, crew, service):
    page = as_user(crew).post(f"/refer/{service.pk}/", _form(dob_day="31", dob_month="2"))
    assert "Date of birth must be a real date" in page.content.decode()
    assert Referral.objects.count() == 0


def test_it_shows_why_the_service_refused_the_patient(as_user, crew, provider, postcode):
    children = ServiceFactory(organisation=provider, name="Children's Falls", max_age=17)
    answer = as_user(crew).post(f"/refer/{children.pk}/", _form())
    assert answer.status_code == 400
    assert "cannot take this referral: the patient&#x27;s age is outside" in answer.content.decode()
    assert Referral.objects.count() == 0


def test_it_says_when_the_last_slot_has_gone(as_user, crew, service):
    service.capacity_slots = 0
    service.save()
    answer = as_user(crew).post(f"/refer/{service.pk}/", _form())
    assert answer.status_code == 409
    assert "no slots left" in answer.content.decode()


def test_it_keeps_the_refer_form_to_crews(as_user, partner, service):
    assert as_user(partner).get(f"/refer/{service.pk}/").status_code == 403
    assert as_user(partner).post(f"/refer/{service.pk}/", _form()).status_code == 403
    assert Referral.objects.count() == 0


def test_it_refuses_a_service_that_does_not_take_crews(as_user, crew, provider, postcode):
    gp_only = ServiceFactory(organisation=provider, referral_roles=[Role.PARTNER])
    assert as_user(crew).get(f"/refer/{gp_only.pk}/").status_code == 403


def test_it_answers_404_for_an_unknown_service(as_user, crew, db):
    assert as_user(crew).get("/refer/999999/").status_code == 404


def test_it_never_puts_patient_details_in_the_address(as_user, crew, service):
    answer = as_user(crew).post(f"/refer/{service.pk}/", _form())
    assert "Ada" not in answer["Location"] and TEST_NHS_NUMBER not in answer["Location"]


def test_it_keys_double_taps_per_user(as_user, crew, service, ambulance_trust):
    colleague = UserFactory(organisation=ambulance_trust, role=Role.CREW)
    as_user(crew).post(f"/refer/{service.pk}/", _form())
    as_user(colleague).post(f"/refer/{service.pk}/", _form())
    assert Referral.objects.count() == 2


# --- refused before the form is filled -----------------------------------------------------


def test_it_refuses_a_closed_service_before_the_form_with_why_and_the_phone(
    as_user, crew, provider, postcode
):
    shut = ServiceFactory(organisation=provider, hours=[], professional_phone="020 7946 0111")
    answer = as_user(crew).get(f"/refer/{shut.pk}/")
    page = answer.content.decode()
    assert answer.status_code == 409
    assert "You cannot refer to" in page
    assert "Closed now" in page
    assert 'href="tel:02079460111"' in page
    assert "Send referral" not in page and 'name="given_name"' not in page


def test_it_refuses_a_service_with_no_slots_left_before_the_form(as_user, crew, service):
    service.capacity_slots = 0
    service.save()
    answer = as_user(crew).get(f"/refer/{service.pk}/")
    assert answer.status_code == 409
    assert "No slots left" in answer.content.decode()
    assert "Send referral" not in answer.content.decode()


def test_it_refuses_a_patient_the_search_said_is_too_young(as_user, crew, provider, postcode):
    adults = ServiceFactory(organisation=provider, min_age=18)
    answer = as_user(crew).get(f"/refer/{adults.pk}/", {"postcode": "SW1A 1AA", "age": "9"})
    assert answer.status_code == 422
    assert "age is outside the ages it sees" in answer.content.decode()


def test_it_opens_the_form_for_a_closed_service_that_takes_referrals_when_closed(
    as_user, crew, provider, postcode
):
    desk = ServiceFactory(organisation=provider, hours=[], accepts_referrals_when_closed=True)
    answer = as_user(crew).get(f"/refer/{desk.pk}/")
    assert answer.status_code == 200
    assert "Send referral" in answer.content.decode()


# --- the search's context -------------------------------------------------------------------

SEARCH = "searched=1&postcode=SW1A+1AA&age=84&sex=female&category=falls&open=on"


def test_it_carries_age_sex_and_category_from_the_search(as_user, crew, service):
    page = as_user(crew).get(f"/refer/{service.pk}/?{SEARCH}").content.decode()
    assert re.search(r'name="sex" type="radio" value="female" checked', page)
    assert "The search was for a patient aged 84" in page
    assert re.search(r'<option value="falls" selected>', page)


def test_it_goes_back_to_the_same_search_even_after_an_error(as_user, crew, service):
    client = as_user(crew)
    back = f'href="/search/?{SEARCH.replace("&", "&amp;")}">Back to search'
    assert back in client.get(f"/refer/{service.pk}/?{SEARCH}").content.decode()
    answer = client.post(f"/refer/{service.pk}/", _form(search=SEARCH, given_name=""))
    assert answer.status_code == 400
    assert back in answer.content.decode()


def test_it_goes_back_to_an_empty_search_without_one(as_user, crew, service):
    page = as_user(crew).get(f"/refer/{service.pk}/").content.decode()
    assert 'href="/search/">Back to search' in page


# --- observations ---------------------------------------------------------------------------


def test_it_sends_the_news2_score_and_its_parts(as_user, crew, service):
    answer = as_user(crew).post(
        f"/refer/{service.pk}/",
        _form(
            respiratory_rate="22",
            spo2="93",
            supplemental_oxygen="oxygen",
            systolic_bp="104",
            heart_rate="112",
            consciousness="A",
            temperature="38.4",
            news2="8",
        ),
    )
    assert answer.status_code == 302
    assert Referral.objects.get().observations == {
        "respiratory_rate": 22,
        "spo2": 93,
        "supplemental_oxygen": True,
        "systolic_bp": 104,
        "heart_rate": 112,
        "consciousness": "A",
        "temperature": 38.4,
        "news2": 8,
    }


def test_it_sends_no_observations_when_none_were_taken(as_user, crew, service):
    as_user(crew).post(f"/refer/{service.pk}/", _form())
    assert Referral.objects.get().observations == {}


def test_it_names_an_observation_out_of_range_by_its_field(as_user, crew, service):
    answer = as_user(crew).post(f"/refer/{service.pk}/", _form(spo2="120", news2="lots"))
    page = answer.content.decode()
    assert answer.status_code == 400
    assert '<a href="#id_spo2">SpO2 must be a whole number from 50 to 100</a>' in page
    assert '<a href="#id_news2">NEWS2 score must be a whole number from 0 to 20</a>' in page
    assert 'value="120"' in page
    assert Referral.objects.count() == 0


# --- services that visit at home ------------------------------------------------------------


def test_it_asks_for_the_address_of_a_patient_a_home_visiting_team_will_see(
    as_user, crew, provider, postcode
):
    visiting = ServiceFactory(organisation=provider, visits_at_home=True)
    client = as_user(crew)
    form_page = client.get(f"/refer/{visiting.pk}/").content.decode()
    assert "Address (optional)" not in form_page
    assert "The team visits the patient here" in form_page
    answer = client.post(f"/refer/{visiting.pk}/", _form(given_name=""))
    page = answer.content.decode()
    assert answer.status_code == 400
    assert '<a href="#id_given_name">' in page  # asked for together with the other errors
    assert '<a href="#id_address">This service visits the patient at home' in page
    assert Referral.objects.count() == 0
    sent = client.post(f"/refer/{visiting.pk}/", _form(address="1 Fictional Road, London"))
    assert sent.status_code == 302
    assert Referral.objects.get().address == "1 Fictional Road, London"


def test_it_keeps_the_address_optional_for_other_services(as_user, crew, service):
    assert "Address (optional)" in as_user(crew).get(f"/refer/{service.pk}/").content.decode()
    assert as_user(crew).post(f"/refer/{service.pk}/", _form()).status_code == 302


def test_it_says_when_a_closed_service_opens(as_user, crew, provider, postcode):
    later = timezone.localdate() + timedelta(days=2)  # never today, whatever the hour
    weekly = ServiceFactory(organisation=provider, hours=[(later.weekday(), "08:00", "12:00")])
    page = as_user(crew).get(f"/refer/{weekly.pk}/").content.decode()
    assert f"Closed now: opens 08:00, {later:%A} {later.day} {later:%B}" in page


def _first_tap_still_saving(client, service) -> str:
    """The state a double tap meets while the first tap's transaction has not committed:
    its key is taken and has no answer yet (SQLite cannot hold two writers, so it is set)."""
    client.post(f"/refer/{service.pk}/", _form())
    IdempotencyKey.objects.update(completed_at=None, response_body=None, created_at=timezone.now())
    return str(Referral.objects.get().id)


def test_it_sends_a_second_tap_to_wait_on_a_page_rather_than_in_the_request(as_user, crew, service):
    client = as_user(crew)
    _first_tap_still_saving(client, service)
    second = client.post(f"/refer/{service.pk}/", _form())
    assert second.status_code == 302
    assert second["Location"] == f"/refer/sending/{KEY}/"
    assert Referral.objects.count() == 1


def test_it_asks_again_each_second_while_the_first_tap_is_saving(as_user, crew, service):
    client = as_user(crew)
    _first_tap_still_saving(client, service)
    page = client.get(f"/refer/sending/{KEY}/")
    assert page.status_code == 200
    assert page["Refresh"] == f"1; url=/refer/sending/{KEY}/?try=1"
    assert "Sending the referral" in page.content.decode()


def test_it_moves_on_to_the_referrals_status_once_the_first_tap_is_saved(as_user, crew, service):
    client = as_user(crew)
    referral_id = _first_tap_still_saving(client, service)
    IdempotencyKey.objects.update(
        completed_at=timezone.now(), response_status=201, response_body={"id": referral_id}
    )
    page = client.get(f"/refer/sending/{KEY}/?try=3")
    assert page.status_code == 302
    assert page["Location"] == f"/referrals/{referral_id}/"


def test_it_stops_asking_and_points_to_the_crews_referrals_after_twenty_tries(
    as_user, crew, service
):
    client = as_user(crew)
    _first_tap_still_saving(client, service)
    page = client.get(f"/refer/sending/{KEY}/?try=20")
    assert "Refresh" not in page
    assert "may not have been sent" in page.content.decode()


def test_it_never_shows_another_users_referral_from_the_sending_page(
    as_user, crew, service, ambulance_trust
):
    _first_tap_still_saving(as_user(crew), service)
    IdempotencyKey.objects.update(completed_at=timezone.now(), response_body={"id": "x"})
    other = UserFactory(organisation=ambulance_trust, role=Role.CREW)
    page = as_user(other).get(f"/refer/sending/{KEY}/")
    assert page.status_code == 200
    assert "Refresh" in page


def test_it_treats_a_key_not_made_by_the_form_as_an_expired_form(as_user, crew, service):
    answer = as_user(crew).post(f"/refer/{service.pk}/", _form(idempotency_key="a/b?c"))
    assert answer.status_code == 400
    assert "The form has expired" in answer.content.decode()
    assert Referral.objects.count() == 0
