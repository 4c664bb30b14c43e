"""A crew is offered Refer only where a referral can be sent, and the phone elsewhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.factories import ServiceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("pages", ["phone"], indirect=True)
def test_a_closed_service_shows_why_and_its_phone_and_the_form_keeps_the_search(pages, world):
    shut = ServiceFactory(
        organisation=world["service"].organisation,
        name="Alpha Day Falls Clinic",
        hours=[],
        professional_phone="020 7946 0123",
    )
    crew = log_in(pages, "e2e-crew", "crew")
    crew.get_by_label("Postcode").fill("SW1A 1AA")
    crew.get_by_label("Patient's age in years").fill("84")
    crew.get_by_label("Female").check()
    crew.get_by_label("Only services that can take the patient in time").uncheck()
    crew.get_by_role("button", name="Search", exact=True).click()

    closed = crew.locator(".nhsuk-card", has_text="Alpha Day Falls Clinic")
    expect(closed).to_contain_text("Cannot refer now: Closed now")
    expect(closed.get_by_role("link", name=re.compile("^Phone 020 7946 0123"))).to_be_visible()
    expect(closed.get_by_role("link", name=re.compile("^Refer"))).to_have_count(0)
    pages.check(crew, "search-closed-card")

    crew.goto(f"/refer/{shut.pk}/")
    expect(crew.get_by_role("heading", level=1)).to_contain_text("You cannot refer")
    expect(crew.get_by_role("button", name="Send referral")).to_have_count(0)
    pages.check(crew, "refer-refused")
    crew.go_back()

    open_card = crew.locator(".nhsuk-card", has_text="Alpha Falls Response")
    open_card.get_by_role("link", name=re.compile("^Refer")).click()
    expect(crew.get_by_label("Female")).to_be_checked()
    expect(crew.get_by_text("The search was for a patient aged 84")).to_be_visible()
    crew.get_by_role("link", name="Back to search").click()
    expect(crew.get_by_label("Patient's age in years")).to_have_value("84")
    expect(crew.locator(".nhsuk-card", has_text="Alpha Day Falls Clinic")).to_be_visible()
