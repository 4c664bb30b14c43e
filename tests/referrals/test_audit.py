"""Every read of a referral's patient details is recorded: who, which, when, how."""

from referrals.models import PatientAccess, Status
from tests.referrals.factories import referral_in

URL = "/api/v1/referrals/"


def test_it_records_each_api_read_of_a_referral(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    api_as(partner).get(f"{URL}{referral.pk}/")
    api_as(partner).get(f"{URL}{referral.pk}/")
    accesses = list(PatientAccess.objects.filter(referral=referral))
    assert len(accesses) == 2
    assert {(a.user, a.channel) for a in accesses} == {(partner, "api")}


def test_it_records_nothing_for_reads_without_patient_details(api_as, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    list_body = api_as(partner).get(URL).content.decode()
    api_as(partner).post(f"{URL}{referral.pk}/acknowledge/", {}, format="json")
    assert PatientAccess.objects.count() == 0
    assert "Ada" not in list_body and "9434765919" not in list_body


def test_operators_open_referrals_in_the_admin_and_each_opening_is_recorded(
    client, operator, crew, partner, service
):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client.force_login(operator)
    listing = client.get("/admin/referrals/referral/")
    assert listing.status_code == 200
    assert "Ada" not in listing.content.decode()
    assert PatientAccess.objects.count() == 0

    page = client.get(f"/admin/referrals/referral/{referral.pk}/change/")
    assert page.status_code == 200
    assert "Testperson" in page.content.decode()
    access = PatientAccess.objects.get()
    assert (access.user, access.referral, access.channel) == (operator, referral, "admin")


def test_the_referral_admin_is_read_only(client, operator, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    client.force_login(operator)
    answer = client.post(
        f"/admin/referrals/referral/{referral.pk}/change/", {"status": "completed"}
    )
    assert answer.status_code == 403
    referral.refresh_from_db()
    assert referral.status == Status.SENT
    assert client.get("/admin/referrals/referral/add/").status_code == 403
    assert client.post(f"/admin/referrals/referral/{referral.pk}/delete/").status_code == 403


def test_partners_cannot_open_referrals_in_the_admin(client, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    partner.is_staff = True
    partner.save()
    client.force_login(partner)
    answer = client.get(f"/admin/referrals/referral/{referral.pk}/change/")
    assert answer.status_code in (302, 403)
    assert PatientAccess.objects.count() == 0
