from directory.models import Role
from referrals.models import Referral, Status
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
    assert "cannot take this referral" in answer.content.decode()
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
