"""The reports page fits the screen: no sideways scroll at 360 px, charts drawn for phones."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from directory.models import Organisation, Role
from referrals.demo import seed_activity
from tests.e2e.test_crew_and_partner_flow import log_in
from tests.factories import OrganisationFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world(db):
    OrganisationFactory(name="London Ambulance (e2e)", kind=Organisation.Kind.AMBULANCE_TRUST)
    # The longest option makes the service filter as wide as its name.
    ServiceFactory(
        name="Alpha Community Health Urgent Community Response and Falls Prevention (e2e)"
    )
    seed_activity(referrals=60, searches=60)
    UserFactory(username="e2e-planner", role=Role.PLANNER)


def test_the_reports_page_never_scrolls_sideways(pages, world):
    planner = log_in(pages, "e2e-planner", "planner")
    expect(planner).to_have_url(re.compile(r"/reports/"))
    planner.wait_for_load_state("networkidle")
    widths = planner.evaluate(
        "() => ({page: document.documentElement.scrollWidth, screen: window.innerWidth})"
    )
    assert widths["page"] <= widths["screen"], widths

    drawn = planner.evaluate(
        "() => [...document.querySelectorAll('img.fd-chart')].map(i => i.currentSrc)"
    )
    assert len(drawn) == 4
    loaded = planner.evaluate(
        "() => [...document.querySelectorAll('img.fd-chart')].every(i => i.naturalWidth > 0)"
    )
    assert loaded  # every drawing arrived (a failing chart shows as a broken image)
    on_phone = pages.viewport == "phone"
    assert all(("layout=narrow" in src) == on_phone for src in drawn), drawn
    pages.check(planner, "reports-layout")
