"""Pages: hostile input is a 400 with the NHS error summary naming the field, never a 500,
and nothing is changed."""

import pytest

from directory.models import Capacity
from referrals.models import Referral, Status
from tests.pages.test_refer_page import _form
from tests.referrals.factories import referral_in


def test_it_names_a_unicode_digit_age_on_the_search_page(as_user, crew, postcode):
    answer = as_user(crew).get("/search/", {"searched": "1", "postcode": "SW1A 1AA", "age": "²"})
    assert answer.status_code == 400
    assert "nhsuk-error-summary" in answer.content.decode()


def test_it_refuses_a_huge_slot_count_on_the_capacity_page(as_user, partner, service):
    answer = as_user(partner).post(
        f"/capacity/{service.pk}/", {"status": "AMBER", "slots": "3000000000"}
    )
    assert answer.status_code == 400
    assert "Slots left must be a whole number, 0 to 10000" in answer.content.decode()
    service.refresh_from_db()
    assert service.capacity_status != Capacity.AMBER


def test_it_refuses_a_nul_in_a_cancel_reason_and_changes_nothing(as_user, crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    answer = as_user(crew).post(f"/referrals/{referral.id}/cancel/", {"reason": "gone\x00"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "nhsuk-error-summary" in page
    assert "reason: Must not contain the NUL character." in page
    referral.refresh_from_db()
    assert referral.status == Status.SENT


def test_it_refuses_a_nul_in_the_refer_form_and_creates_nothing(as_user, crew, service):
    answer = as_user(crew).post(f"/refer/{service.pk}/", _form(given_name="Ann\x00"))
    assert answer.status_code == 400
    assert "given_name: Must not contain the NUL character." in answer.content.decode()
    assert Referral.objects.count() == 0


def test_it_refuses_a_nul_in_a_search_page_parameter(as_user, crew, postcode):
    answer = as_user(crew).get("/search/", {"searched": "1", "postcode": "SW1A\x001AA"})
    assert answer.status_code == 400
    assert "postcode: Must not contain the NUL character." in answer.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/reports/",
        "/reports/charts/weekly.svg",
        "/reports/charts/acceptance.svg",
        "/reports/charts/response.svg",
        "/reports/charts/gaps.svg",
    ],
)
@pytest.mark.parametrize("params", [{"to": "9999-12-31"}, {"service": "²"}])
def test_it_answers_hostile_report_filters_without_a_500(as_user, planner, url, params):
    answer = as_user(planner).get(url, params)
    assert answer.status_code == 200  # the page shows its default weeks and the error
    if url == "/reports/":
        page = answer.content.decode()
        assert "nhsuk-error-summary" in page
        assert f"#filter-{next(iter(params))}" in page
