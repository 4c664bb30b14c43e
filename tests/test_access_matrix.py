"""Every route x every role x another organisation's objects, generated from the URL conf.

The routes come from walking Django's resolver, so a route nobody put in ROUTES fails
test_it_knows_every_route: a new page or endpoint cannot be forgotten. Admin URLs are
covered from the admin's own registry (every change list, and the change page of each
object of the provider's organisation).

The world: a crew of an ambulance trust referred a patient into the provider's service;
the provider has a webhook endpoint that was told. Each role then reads every route (and
tries every write it may not make) and the test notices what a user would:

- a refused request is 401, 403, 404 or a redirect to a login page (never a 200, a 400 or
  a 500), and a refused write changes nothing;
- nobody outside the two organisations and operators ever sees the referral (its id or
  any patient identifier) or the provider's endpoint (its URL or secret), in any list,
  page, export or admin page; planners see no patient identifier anywhere;
- every response that shows a patient identifier wrote a PatientAccess row for that user.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from directory.models import Role
from integrations.models import Delivery, Endpoint
from referrals.models import PatientAccess, Referral, ReferralEvent
from tests.factories import OrganisationFactory, ServiceFactory, UserFactory
from tests.referrals.factories import TEST_NHS_NUMBER, referral_create

ROLES = ["crew", "other_crew", "partner", "other_partner", "planner", "operator", "anonymous"]
SIGNED_IN = [r for r in ROLES if r != "anonymous"]
REFERRAL_PARTIES = {"crew", "partner", "operator"}
ENDPOINT_OWNERS = {"partner", "operator"}
HOOK_URL = "https://alpha-hook.example/frontdoor-receive"

# The test patient's identifiers, in every form a page, export or log might print them.
PATIENT_MARKERS = [
    TEST_NHS_NUMBER,
    "943 476 5919",
    "Testperson",
    "1941-03-02",
    "02/03/1941",
    "2 March 1941",
    "2 Mar 1941",
]
_GIVEN_NAME = re.compile(r"\bAda\b")


def patient_seen(text: str) -> str | None:
    """The first patient identifier in text, or None."""
    for marker in PATIENT_MARKERS:
        if marker in text:
            return marker
    if _GIVEN_NAME.search(text):
        return "Ada"
    return None


@dataclass
class Route:
    """What the matrix does with one URL pattern.

    get: roles whose GET must succeed (2xx, or a redirect that is not to a login page);
    every other role's GET must be refused. None: the route has no GET to check.
    writes: {method: roles allowed}; every other role's write must be refused (allowed
    roles' writes are not made here: the behaviour tests do them).
    public: why anonymous users may read it (only with "anonymous" in get).
    extra: more query strings to GET with the same expectations (exports).
    query: the query string every request to it carries (what the route needs to answer).
    """

    get: set[str] | None
    writes: dict[str, set[str]] = field(default_factory=dict)
    public: str = ""
    extra: list[str] = field(default_factory=list)
    query: str = ""


EVERYONE = set(ROLES)
ALL_SIGNED_IN = set(SIGNED_IN)
CREWS = {"crew", "other_crew"}
PARTNERS = {"partner", "other_partner"}
ANSWERERS = {"partner", "operator"}
REPORT_READERS = {"planner", "operator"}
ENDPOINT_MANAGERS = CREWS | PARTNERS | {"operator"}
EXPORTS = ["format=csv", "format=xlsx"]

# Every non-admin route, by its pattern. Public routes (anonymous in `get`) say why.
ROUTES: dict[str, Route] = {
    "": Route(EVERYONE, public="sends each visitor to their home or the login page"),
    "login/": Route(EVERYONE, writes={"POST": EVERYONE}, public="where signing in starts"),
    "logout/": Route(None, writes={"POST": EVERYONE}, public="signing out needs no rights"),
    "search/": Route(CREWS),
    "refer/<int:service_id>/": Route(CREWS, writes={"POST": CREWS}),
    "refer/sending/<slug:key>/": Route(CREWS),
    "referrals/": Route(CREWS),
    "referrals/<uuid:referral_id>/": Route({"crew"}),
    "referrals/<uuid:referral_id>/live/": Route({"crew"}),
    "referrals/<uuid:referral_id>/cancel/": Route(None, writes={"POST": {"crew"}}),
    "inbox/": Route(PARTNERS),
    "inbox/live/": Route(PARTNERS),
    "inbox/<uuid:referral_id>/": Route({"partner"}, writes={"POST": {"partner"}}),
    "capacity/": Route(PARTNERS),
    "capacity/<int:service_id>/": Route(None, writes={"POST": {"partner"}}),
    "reports/": Route(REPORT_READERS),
    "reports/charts/<slug:name>.svg": Route(REPORT_READERS),
    "api/v1/reports/referrals/": Route(REPORT_READERS, extra=EXPORTS),
    "api/v1/reports/referrals/rows/": Route(REPORT_READERS, extra=EXPORTS),
    "api/v1/reports/gaps/": Route(REPORT_READERS, extra=EXPORTS),
    "api/v1/fhir/$process-message": Route(None, writes={"POST": ANSWERERS}),
    "api/v1/fhir/HealthcareService/<str:service_id>": Route(ALL_SIGNED_IN),
    "api/v1/auth/token/": Route(
        None,
        writes={"POST": EVERYONE, "DELETE": ALL_SIGNED_IN},
        public="where a device signs in",
    ),
    "api/v1/auth/token/all/": Route(None, writes={"DELETE": ALL_SIGNED_IN}),
    "api/v1/me/": Route(ALL_SIGNED_IN),
    "api/v1/categories/": Route(ALL_SIGNED_IN),
    "api/v1/services/": Route(ALL_SIGNED_IN),
    "api/v1/services/search/": Route(
        CREWS | PARTNERS | {"operator"}, query="lat=51.501&lon=-0.1416&explain=true"
    ),
    "api/v1/services/<int:service_id>/": Route(ALL_SIGNED_IN),
    "api/v1/services/<int:service_id>/capacity/": Route(None, writes={"PUT": ANSWERERS}),
    "api/v1/referrals/": Route(CREWS | PARTNERS | {"operator"}, writes={"POST": CREWS}),
    "api/v1/referrals/<uuid:referral_id>/": Route(REFERRAL_PARTIES),
    "api/v1/referrals/<uuid:referral_id>/events/": Route(REFERRAL_PARTIES),
    "api/v1/referrals/<uuid:referral_id>/acknowledge/": Route(None, writes={"POST": ANSWERERS}),
    "api/v1/referrals/<uuid:referral_id>/accept/": Route(None, writes={"POST": ANSWERERS}),
    "api/v1/referrals/<uuid:referral_id>/decline/": Route(None, writes={"POST": ANSWERERS}),
    "api/v1/referrals/<uuid:referral_id>/complete/": Route(None, writes={"POST": ANSWERERS}),
    "api/v1/referrals/<uuid:referral_id>/cancel/": Route(
        None, writes={"POST": {"crew", "operator"}}
    ),
    "api/v1/endpoints/": Route(ENDPOINT_MANAGERS, writes={"POST": ENDPOINT_MANAGERS}),
    "api/v1/endpoints/<int:endpoint_id>/": Route(
        ENDPOINT_OWNERS, writes={"PATCH": ENDPOINT_OWNERS, "DELETE": ENDPOINT_OWNERS}
    ),
    "api/v1/endpoints/<int:endpoint_id>/test/": Route(None, writes={"POST": ENDPOINT_OWNERS}),
    "api/v1/endpoints/<int:endpoint_id>/deliveries/": Route(ENDPOINT_OWNERS),
    "api/v1/deliveries/<int:delivery_id>/replay/": Route(None, writes={"POST": ENDPOINT_OWNERS}),
    "hsds/": Route(EVERYONE, public="Open Referral HSDS: the public directory"),
    "hsds/services": Route(EVERYONE, public="HSDS: public directory"),
    "hsds/services/<uuid:service_id>": Route(EVERYONE, public="HSDS: public directory"),
    "hsds/service_at_locations": Route(EVERYONE, public="HSDS: public directory"),
    "hsds/organizations": Route(EVERYONE, public="HSDS: public directory"),
    "hsds/organizations/<uuid:organization_id>": Route(EVERYONE, public="HSDS: public directory"),
    "hsds/taxonomies": Route(EVERYONE, public="HSDS: public directory"),
    "hsds/taxonomy_terms": Route(EVERYONE, public="HSDS: public directory"),
    "api/schema/": Route(EVERYONE, public="the API's description; holds no data"),
    "api/docs/": Route(EVERYONE, public="Swagger UI over the schema; holds no data"),
    "admin/import-services/": Route({"operator"}, writes={"POST": {"operator"}}),
}


def all_patterns(patterns=None, prefix: str = ""):
    """Every URL pattern the project serves, as (route text, pattern)."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from all_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def is_admin_site_route(route: str) -> bool:
    """The admin site's own URLs, covered below from admin.site._registry."""
    return route.startswith("admin/") and route != "admin/import-services/"


def test_it_knows_every_route():
    served = {route for route, _ in all_patterns() if not is_admin_site_route(route)}
    assert served - set(ROUTES) == set(), "routes missing from the access matrix"
    assert set(ROUTES) - served == set(), "matrix rows for routes that no longer exist"


def test_every_public_route_says_why():
    for route, spec in ROUTES.items():
        public = spec.get is not None and "anonymous" in spec.get
        public_writes = any("anonymous" in roles for roles in spec.writes.values())
        assert bool(spec.public) == (public or public_writes), route


# --- the world ---------------------------------------------------------------------------


@pytest.fixture
def world(db):
    trust = OrganisationFactory(name="Matrix Ambulance (test)")
    other_trust = OrganisationFactory(name="Other Matrix Ambulance (test)")
    provider = OrganisationFactory(name="Matrix Provider (test)")
    other_provider = OrganisationFactory(name="Other Matrix Provider (test)")
    people = {
        "crew": UserFactory(username="m-crew", organisation=trust, role=Role.CREW),
        "other_crew": UserFactory(username="m-crew2", organisation=other_trust, role=Role.CREW),
        "partner": UserFactory(
            username="m-partner", organisation=provider, role=Role.PARTNER, is_staff=True
        ),
        "other_partner": UserFactory(
            username="m-partner2", organisation=other_provider, role=Role.PARTNER, is_staff=True
        ),
        "planner": UserFactory(username="m-planner", role=Role.PLANNER),
        "operator": UserFactory(username="m-operator", role=Role.OPERATOR, is_staff=True),
    }
    service = ServiceFactory(organisation=provider, name="Matrix Falls Response")
    ServiceFactory(organisation=other_provider, name="Other Matrix Falls Response")
    endpoint = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url=HOOK_URL
    )
    Endpoint.objects.create(
        organisation=other_provider, kind=Endpoint.Kind.WEBHOOK, url="https://beta.example/h"
    )
    referral = referral_create(people["crew"], service)
    delivery = Delivery.objects.filter(endpoint=endpoint).first()
    assert delivery is not None
    return {
        "people": people,
        "service": service,
        "endpoint": endpoint,
        "referral": referral,
        "delivery": delivery,
        "provider": provider,
    }


def url_for(route: str, world) -> str:
    values = {
        "<int:service_id>": str(world["service"].pk),
        "<str:service_id>": str(world["service"].uuid),
        "<uuid:service_id>": str(world["service"].uuid),
        "<uuid:organization_id>": str(world["provider"].uuid),
        "<uuid:referral_id>": str(world["referral"].pk),
        "<int:endpoint_id>": str(world["endpoint"].pk),
        "<int:delivery_id>": str(world["delivery"].pk),
        "<slug:name>": "weekly",
        "<slug:key>": "0123abcd",
    }
    for placeholder, value in values.items():
        route = route.replace(placeholder, value)
    assert "<" not in route, route
    return "/" + route


def client_as(role: str, world) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        user = world["people"][role]
        client.force_login(user)
        client.force_authenticate(user)
    return client


def body_text(response) -> str:
    """What the user receives, as text: streamed CSV joined, XLSX cells read."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    if raw[:2] == b"PK":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return raw.decode("utf-8", errors="replace")


def refused(response) -> bool:
    if response.status_code in {401, 403, 404}:
        return True
    if response.status_code == 302:
        return "login" in response["Location"]
    return False


def secrets_for(role: str, world) -> list[str]:
    """Strings this role must never receive."""
    hidden = []
    if role not in REFERRAL_PARTIES:
        referral = world["referral"]
        hidden += [str(referral.pk), referral.pk.hex]
    if role not in ENDPOINT_OWNERS:
        hidden += [HOOK_URL, world["endpoint"].secret]
    return hidden


def problems_in(role: str, world, label: str, response, audits_before: int) -> list[str]:
    """What is wrong with what this role received: leaks and unaudited patient reads."""
    problems = []
    text = body_text(response)
    for secret in secrets_for(role, world):
        if secret in text:
            problems.append(f"{label}: {role} received {secret!r}")
    seen = patient_seen(text)
    if seen:
        if role not in REFERRAL_PARTIES:
            problems.append(f"{label}: {role} saw the patient identifier {seen!r}")
        else:
            user = world["people"][role]
            audited = PatientAccess.objects.filter(
                pk__gt=audits_before, user=user, outcome=PatientAccess.Outcome.GRANTED
            ).exists()
            if not audited:
                problems.append(f"{label}: {role} saw {seen!r} and no PatientAccess was written")
    return problems


def last_audit_id() -> int:
    last = PatientAccess.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


def state_of(world) -> tuple:
    """What a refused write must leave alone."""
    referral = Referral.objects.get(pk=world["referral"].pk)
    endpoint = Endpoint.objects.filter(pk=world["endpoint"].pk).first()
    service = world["service"]
    service.refresh_from_db()
    return (
        referral.status,
        ReferralEvent.objects.count(),
        Referral.objects.count(),
        Delivery.objects.count(),
        Endpoint.objects.count(),
        endpoint and (endpoint.url, endpoint.active, endpoint.description),
        service.capacity_status,
        service.capacity_slots,
    )


WRITE_BODIES = {
    "capacity": {"status": "RED", "slots": 0, "expires_in_minutes": 60},
    "decline": {"reason_code": "other", "note": "n"},
    "complete": {"outcome": "ok"},
    "cancel": {"reason": "r"},
    "endpoints/<int:endpoint_id>/": {"description": "changed", "active": False},
    "api/v1/endpoints/": {"kind": "webhook", "url": "https://new.example/hook"},
}


def write_body(route: str, world) -> dict:
    if route == "api/v1/fhir/$process-message":
        from tests.integrations.test_fhir_process_message import response_message

        return response_message(world["referral"], "acknowledged", "active")
    if route == "api/v1/referrals/":
        from tests.referrals.factories import referral_body

        return referral_body(world["service"])
    for key, body in WRITE_BODIES.items():
        if key in route:
            return body
    return {}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_what_is_theirs(world, role):
    problems: list[str] = []
    for route, spec in ROUTES.items():
        url = url_for(route, world)
        if spec.get is not None:
            for query in [spec.query, *spec.extra]:
                full = f"{url}?{query}" if query else url
                client = client_as(role, world)
                audits = last_audit_id()
                response = client.get(full)
                label = f"GET {full}"
                if role in spec.get:
                    # A public route may send an anonymous visitor on to the login page.
                    if response.status_code >= 400 or (refused(response) and not spec.public):
                        problems.append(f"{label}: {role} got {response.status_code}")
                elif not refused(response):
                    problems.append(f"{label}: {role} got {response.status_code}, not refused")
                problems += problems_in(role, world, label, response, audits)
        for method, allowed in spec.writes.items():
            if role in allowed:
                continue
            client = client_as(role, world)
            before = state_of(world)
            audits = last_audit_id()
            response = getattr(client, method.lower())(
                url, write_body(route, world), format="json", HTTP_IDEMPOTENCY_KEY="matrix-1"
            )
            label = f"{method} {url}"
            if not refused(response):
                problems.append(f"{label}: {role} got {response.status_code}, not refused")
            if state_of(world) != before:
                problems.append(f"{label}: {role}'s refused write changed something")
            problems += problems_in(role, world, label, response, audits)
    assert problems == [], "\n".join(problems)


# --- the admin -------------------------------------------------------------------------

# For each admin model a partner may list: the path from a row to its organisation.
PARTNER_SCOPE = {
    "directory.service": "organisation_id",
    "directory.location": "organisation_id",
    "integrations.endpoint": "organisation_id",
    "integrations.delivery": "endpoint__organisation_id",
}


# Registered by Django and knox, not by frontdoor: roles, not groups, decide access, and
# tokens are revoked through the API; nobody's model permissions open them, operators' neither.
ADMIN_CLOSED_TO_ALL = {"auth.group", "knox.authtoken"}


def admin_objects(world) -> dict[str, object]:
    """One object of the provider's side per admin model that has one, keyed app.model."""
    referral = world["referral"]
    return {
        "directory.service": world["service"],
        "directory.location": world["service"].location,
        "directory.organisation": world["provider"],
        "directory.user": world["people"]["partner"],
        "integrations.endpoint": world["endpoint"],
        "integrations.delivery": world["delivery"],
        "referrals.referral": referral,
        "referrals.referralevent": referral.events.first(),
        "referrals.patientaccess": PatientAccess.objects.create(
            referral=referral,
            referral_ref=referral.pk,
            user=world["people"]["crew"],
            username="m-crew",
            channel=PatientAccess.Channel.API,
        ),
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_own_rows_in_the_admin(world, role):
    problems: list[str] = []
    objects = admin_objects(world)
    for model in admin.site._registry:
        key = model._meta.label_lower
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        client = client_as(role, world)
        audits = last_audit_id()
        response = client.get(changelist)
        label = f"GET {changelist}"
        if key in ADMIN_CLOSED_TO_ALL:
            if not refused(response):
                problems.append(f"{label}: {role} got {response.status_code}, not refused")
        elif role == "operator":
            if response.status_code != 200:
                problems.append(f"{label}: operator got {response.status_code}")
        elif role in PARTNERS and key in PARTNER_SCOPE:
            if response.status_code != 200:
                problems.append(f"{label}: {role} got {response.status_code}")
            else:
                organisation = world["people"][role].organisation_id
                rows = response.context["cl"].queryset
                if rows.exclude(**{PARTNER_SCOPE[key]: organisation}).exists():
                    problems.append(f"{label}: {role} listed another organisation's rows")
        elif not refused(response):
            problems.append(f"{label}: {role} got {response.status_code}, not refused")
        problems += problems_in(role, world, label, response, audits)

        instance = objects.get(key)
        if instance is None:
            continue
        change = reverse("admin:{}_{}_change".format(*info), args=[instance.pk])
        audits = last_audit_id()
        response = client.get(change)
        label = f"GET {change}"
        owner = role == "operator" or (role == "partner" and key in PARTNER_SCOPE)
        if owner:
            if response.status_code != 200:
                problems.append(f"{label}: {role} got {response.status_code}")
        elif not (refused(response) or _admin_said_no_such_object(response)):
            problems.append(f"{label}: {role} got {response.status_code}, not refused")
        problems += problems_in(role, world, label, response, audits)
    assert problems == [], "\n".join(problems)


def _admin_said_no_such_object(response) -> bool:
    """The admin's answer to an object outside a user's queryset: back to the index."""
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_the_scan_would_notice_the_patient_where_the_parties_see_it(world):
    """The markers are the ones the pages and API print: the matrix's checks are not idle."""
    audits = last_audit_id()
    for role, url in [
        ("crew", f"/api/v1/referrals/{world['referral'].pk}/"),
        ("crew", f"/referrals/{world['referral'].pk}/"),
        ("partner", f"/inbox/{world['referral'].pk}/"),
    ]:
        response = client_as(role, world).get(url)
        assert patient_seen(body_text(response)), url
    assert PatientAccess.objects.filter(pk__gt=audits).count() == 3
