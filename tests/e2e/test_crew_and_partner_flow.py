"""A crew finds, refers and follows; a partner answers; at 360 px and 1280 px wide."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from directory.models import Role
from referrals.models import Referral, Status
from tests.e2e.conftest import fill_referral, log_in
from tests.factories import UserFactory
from tests.referrals.factories import referral_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LIVE = 5_000  # ms: live parts poll every second


def test_a_crew_refers_and_a_partner_accepts(pages, world):
    crew = log_in(pages, "e2e-crew", "crew")
    expect(crew).to_have_url(re.compile(r"/search/$"))
    expect(crew.get_by_label("Only services that can take the patient in time")).to_be_checked()
    pages.check(crew, "search")

    crew.get_by_label("Postcode").fill("sw1a 1aa")
    crew.get_by_label("Patient's age in years").fill("84")
    crew.get_by_role("button", name="Search", exact=True).click()
    card = crew.locator(".nhsuk-card", has_text="Alpha Falls Response")
    expect(card).to_contain_text("Taking referrals")
    expect(card).to_contain_text("Alpha Community Health (e2e)")
    expect(card).to_contain_text(re.compile(r"updated (just now|\d+ min ago)"))
    pages.check(crew, "search-results")

    crew.get_by_text("Why are some services not shown?").click()
    why = crew.locator("#why-not-shown")
    expect(why).to_contain_text("Alpha Children's Falls")
    expect(why).to_contain_text("age is outside")
    pages.check(crew, "search-why-not-shown")

    card.get_by_role("link", name=re.compile("^Refer")).click()
    expect(crew.get_by_role("heading", level=1)).to_have_text("Refer to Alpha Falls Response")
    pages.check(crew, "refer")

    crew.get_by_label("First name").fill("Ada")
    crew.get_by_role("button", name="Send referral").click()
    expect(crew.locator(".nhsuk-error-summary")).to_contain_text("Enter the patient's last name")
    expect(crew.get_by_label("First name")).to_have_value("Ada")  # nothing typed is lost
    pages.check(crew, "refer-errors")

    fill_referral(crew)
    # A first send whose answer is lost (poor signal), then the crew taps again.
    crew.evaluate(
        """async () => {
            const form = document.querySelector("form[action^='/refer/']");
            await fetch(form.action, {method: "POST", body: new FormData(form)});
        }"""
    )
    crew.get_by_role("button", name="Send referral").click()
    expect(crew.locator("[data-status]").first).to_have_text("Sent")
    assert Referral.objects.count() == 1
    pages.check(crew, "status-sent")

    partner = log_in(pages, "e2e-partner", "partner")
    expect(partner).to_have_url(re.compile(r"/inbox/$"))
    expect(partner.locator("[data-unanswered]")).to_have_text("1")
    pages.check(partner, "inbox")
    partner.get_by_role("link", name=re.compile("referral from London Ambulance")).click()
    expect(partner.get_by_text("Ada Testperson")).to_be_visible()
    pages.check(partner, "partner-referral")
    partner.get_by_role("button", name="Acknowledge").click()
    expect(partner.locator(".nhsuk-notification-banner")).to_contain_text("acknowledged")
    partner.get_by_role("button", name="Accept").click()
    expect(partner.locator(".nhsuk-notification-banner")).to_contain_text("accepted")
    pages.check(partner, "partner-referral-accepted")

    # The crew's page follows without a reload.
    expect(crew.locator("#referral-live [data-status]")).to_have_text("Accepted", timeout=LIVE)
    pages.check(crew, "status-accepted")

    crew.get_by_role("link", name="My referrals").first.click()
    expect(crew.locator("table")).to_contain_text("Alpha Falls Response")
    pages.check(crew, "my-referrals")

    partner.goto("/capacity/")
    pages.check(partner, "capacity")
    falls = partner.locator(f"#service-{world['service'].pk}")
    falls.get_by_label("Slots left (optional)").fill("3")
    falls.get_by_role("button", name=re.compile("^Amber")).click()
    expect(partner.locator(".nhsuk-notification-banner")).to_contain_text("Amber")
    expect(falls.locator("[data-capacity]")).to_have_text("Amber")
    expect(falls).to_contain_text("3 slots left")


def test_a_partner_declines_and_a_crew_cancels(pages, world):
    declined = referral_create(world["crew"], world["service"])
    cancelled = referral_create(world["crew"], world["service"])

    crew = log_in(pages, "e2e-crew", "crew")
    crew.goto(f"/referrals/{declined.id}/")
    expect(crew.locator("#referral-live [data-status]")).to_have_text("Sent")

    partner = log_in(pages, "e2e-partner", "partner")
    expect(partner.locator("[data-unanswered]")).to_have_text("2")
    partner.goto(f"/inbox/{declined.id}/")
    partner.get_by_text("Decline this referral").click()
    partner.get_by_role("button", name="Decline").click()
    expect(partner.locator(".nhsuk-error-summary")).to_contain_text("Select why you are declining")
    pages.check(partner, "decline-errors")
    partner.get_by_label("No capacity").check()
    partner.get_by_label("Tell the crew more (needed for Other)").fill("Full until 6pm")
    partner.get_by_role("button", name="Decline").click()
    expect(partner.locator(".nhsuk-notification-banner")).to_contain_text("declined")

    expect(crew.locator("#referral-live [data-status]")).to_have_text("Declined", timeout=LIVE)
    expect(crew.locator("#referral-live")).to_contain_text("No capacity")
    pages.check(crew, "status-declined")

    crew.goto(f"/referrals/{cancelled.id}/")
    crew.get_by_text("Cancel this referral").click()
    crew.get_by_role("button", name="Cancel referral").click()
    expect(crew.locator(".nhsuk-error-summary")).to_contain_text("Enter why you are cancelling")
    pages.check(crew, "cancel-errors")
    crew.get_by_label("Why are you cancelling?").fill("Patient conveyed to ED")
    crew.get_by_role("button", name="Cancel referral").click()
    expect(crew.locator("#referral-live [data-status]")).to_have_text("Cancelled")
    pages.check(crew, "status-cancelled")

    assert Referral.objects.get(pk=declined.pk).status == Status.DECLINED
    assert Referral.objects.get(pk=cancelled.pk).status == Status.CANCELLED


def test_a_planner_lands_on_the_reports(pages, world):
    UserFactory(username="e2e-planner", organisation=world["crew"].organisation, role=Role.PLANNER)
    planner = log_in(pages, "e2e-planner", "planner")
    expect(planner).to_have_url(re.compile(r"/reports/"))
    pages.check(planner, "reports")
