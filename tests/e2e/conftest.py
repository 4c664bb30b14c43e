"""End-to-end harness: Debian's Chromium driven by Playwright against pytest-django's live_server.

No browser is downloaded: Chromium is /usr/bin/chromium (apt-get install chromium), or
$CHROMIUM_PATH. Without it the e2e tests skip with the reason, unless E2E_REQUIRED=1 (as
in .ci/run), where they fail. axe-core comes from node_modules (npm ci). Screenshots go
to artifacts/e2e/ (git-ignored).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test import testcases
from playwright.sync_api import expect

from directory.models import Organisation, Postcode, Role
from tests.factories import (
    TEST_PASSWORD,
    OrganisationFactory,
    ServiceFactory,
    UserFactory,
    borough,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts" / "e2e"
AXE_URL = "/__axe-core.js"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"phone": {"width": 360, "height": 800}, "desktop": {"width": 1280, "height": 800}}

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class SerialWSGIServer(WSGIServer):
    """One request at a time. With SQLite's in-memory test database the server shares the
    test's single connection, which must not be used by two requests at once (polling
    pages would otherwise overlap). Django closes each connection after its response."""

    def __init__(self, *args, connections_override=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)


testcases.LiveServerThread.server_class = SerialWSGIServer


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM}: apt-get install chromium"
    if not AXE.exists():
        return f"axe-core not found at {AXE}: run make install (npm ci)"
    return None


@pytest.fixture(scope="session")
def chromium():
    reason = _missing()
    if reason:
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(f"E2E_REQUIRED is set but {reason}")
        pytest.skip(reason)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API moves the rest of the session into a greenlet with its own
    # context, where Django's context-local connections would be new objects: keep the
    # ones the test databases were set up on (they carry the serialized rollback data).
    originals = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in originals.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


class Pages:
    """Browser contexts for one test at one viewport, with the checks every page gets."""

    def __init__(self, browser, base_url: str, viewport: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.viewport = viewport
        self.contexts = []
        self.csp_violations: list[str] = []
        self.folder = ARTIFACTS / viewport
        self.folder.mkdir(parents=True, exist_ok=True)

    def new(self, **options):
        """A signed-out page in a fresh context; options go to Playwright's new_context
        (geolocation, permissions...)."""
        context = self.browser.new_context(
            base_url=self.base_url, viewport=VIEWPORTS[self.viewport], locale="en-GB", **options
        )
        # axe-core is served from our own origin so the pages' self-only
        # Content-Security-Policy stays on during the checks.
        context.route(
            f"{self.base_url}{AXE_URL}",
            lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"),
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("console", self._console)
        self.contexts.append(context)
        return page

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(message.text)

    def check(self, page, name: str) -> None:
        """axe-core finds no serious or critical problem; a screenshot is kept."""
        page.wait_for_load_state("load")
        page.add_script_tag(url=AXE_URL)
        violations = page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ["violations"]});
                return result.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
            }"""
        )
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        assert violations == [], f"axe on {name} ({page.url}): {violations}"
        assert self.csp_violations == [], self.csp_violations

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(params=list(VIEWPORTS))
def pages(request, django_db_setup, chromium, live_server):
    # django_db_setup first: the live server (and its database connection) then stops
    # before the test database is dropped.
    pages = Pages(chromium, live_server.url, request.param)
    yield pages
    pages.close()


def safe_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.fixture
def world(db):
    """A crew and a partner; the partner's falls service (any adult) and a children's one,
    both on SW1A 1AA."""
    trust = OrganisationFactory(
        name="London Ambulance (e2e)", kind=Organisation.Kind.AMBULANCE_TRUST
    )
    provider = OrganisationFactory(name="Alpha Community Health (e2e)")
    crew = UserFactory(username="e2e-crew", organisation=trust, role=Role.CREW)
    partner = UserFactory(username="e2e-partner", organisation=provider, role=Role.PARTNER)
    Postcode.objects.create(
        postcode="SW1A 1AA", latitude=51.5010, longitude=-0.1416, borough=borough()
    )
    service = ServiceFactory(
        organisation=provider,
        name="Alpha Falls Response",
        phone="020 7946 0000",
        inclusion_criteria="Adults who have fallen at home",
    )
    ServiceFactory(organisation=provider, name="Alpha Children's Falls", min_age=0, max_age=17)
    return {"crew": crew, "partner": partner, "service": service}


def log_in(pages, username: str, name: str, **options):
    """A page signed in as this user (options: see Pages.new)."""
    page = pages.new(**options)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/$"))
    pages.check(page, f"{name}-login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def fill_referral(page) -> None:
    """Every answer the refer form needs, for a fictional patient."""
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Testperson")
    page.get_by_label("Day").fill("2")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("1941")
    page.get_by_label("Female").check()
    page.get_by_label("NHS number (if known)").fill("943 476 5919")
    page.get_by_label("Presenting complaint").fill("Fall at home, no head injury")
    page.get_by_label("Incident reference").fill("CAD-E2E-1")
    page.get_by_label("Within 4 hours").check()
    page.get_by_label("The patient has given consent to this referral").check()
