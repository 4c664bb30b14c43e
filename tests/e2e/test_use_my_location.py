"""A crew on a phone searches from the device's position, or is told at once why it cannot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WHITEHALL = {"latitude": 51.5033, "longitude": -0.1276}  # central London, ~1 km from SW1A 1AA
ERRORS: list[str] = []


def _collect_errors(page) -> None:
    page.on("pageerror", lambda error: ERRORS.append(str(error)))


@pytest.mark.parametrize("pages", ["phone"], indirect=True)
def test_it_searches_from_a_granted_position(pages, world):
    ERRORS.clear()
    crew = log_in(pages, "e2e-crew", "crew", geolocation=WHITEHALL, permissions=["geolocation"])
    _collect_errors(crew)
    expect(crew).to_have_url(re.compile(r"/search/$"))
    crew.get_by_label("Postcode").fill("SW1")  # typing no longer throws
    crew.get_by_label("Patient's age in years").fill("84")
    crew.get_by_role("button", name="Use my location").click()

    expect(crew).to_have_url(re.compile(r"lat=51\.503"))
    expect(crew.locator("#results-heading")).to_contain_text("service")
    expect(crew.locator(".nhsuk-card", has_text="Alpha Falls Response")).to_be_visible()
    expect(crew.locator("#location-status")).to_have_text("Searching from your location.")
    expect(crew.get_by_label("Patient's age in years")).to_have_value("84")
    pages.check(crew, "search-from-location")
    assert ERRORS == []


@pytest.mark.parametrize("pages", ["phone"], indirect=True)
def test_it_says_at_once_when_the_position_is_refused_and_offers_the_postcode(pages, world):
    ERRORS.clear()
    crew = log_in(pages, "e2e-crew", "crew", geolocation=WHITEHALL, permissions=[])
    _collect_errors(crew)
    crew.get_by_role("button", name="Use my location").click()

    status = crew.locator("#location-status")
    expect(status).to_contain_text("Enter the postcode instead", timeout=10_000)
    expect(crew.get_by_label("Postcode")).to_be_focused()
    expect(crew.get_by_role("button", name="Use my location")).to_be_enabled()
    expect(crew).to_have_url(re.compile(r"/search/$"))  # nothing was sent
    pages.check(crew, "search-location-refused")
    assert ERRORS == []
