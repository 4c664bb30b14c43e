"""A partner notices a referral arriving: the inbox's title counts it and, if asked, it beeps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from directory.models import Role
from tests.e2e.test_crew_and_partner_flow import log_in
from tests.factories import OrganisationFactory, ServiceFactory, UserFactory
from tests.referrals.factories import referral_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LIVE = 20_000  # ms: the inbox refreshes itself every 10 s

# Counts beeps instead of playing them: the page's WebAudio calls land here.
FAKE_AUDIO = """
window.__beeps = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createOscillator() {
    return { type: "", frequency: { value: 0 }, connect: (node) => node,
             start: () => { window.__beeps += 1; }, stop: () => {} };
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} },
             connect: (node) => node };
  }
};
"""


@pytest.fixture
def world(db):
    trust = OrganisationFactory(name="London Ambulance (e2e)")
    provider = OrganisationFactory(name="Alpha Community Health (e2e)")
    crew = UserFactory(username="e2e-crew", organisation=trust, role=Role.CREW)
    UserFactory(username="e2e-partner", organisation=provider, role=Role.PARTNER)
    return {"crew": crew, "service": ServiceFactory(organisation=provider, name="Alpha Falls")}


def test_the_inbox_title_counts_arrivals_and_beeps_only_when_asked(pages, world):
    partner = log_in(pages, "e2e-partner", "partner")
    partner.context.add_init_script(FAKE_AUDIO)
    partner.reload()
    expect(partner).to_have_title("Inbox – frontdoor")
    sound = partner.get_by_label("Play a sound when a referral arrives")
    expect(sound).not_to_be_checked()  # off by default
    pages.check(partner, "inbox-cue")

    referral_create(world["crew"], world["service"])
    expect(partner).to_have_title("(1) Inbox – frontdoor", timeout=LIVE)
    assert partner.evaluate("window.__beeps") == 0

    sound.check()
    referral_create(world["crew"], world["service"])
    expect(partner).to_have_title("(2) Inbox – frontdoor", timeout=LIVE)
    assert partner.evaluate("window.__beeps") == 1

    partner.reload()  # the choice is remembered on this device
    expect(partner).to_have_title(re.compile(r"^\(2\) Inbox"))
    expect(partner.get_by_label("Play a sound when a referral arrives")).to_be_checked()
