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

import pytest
from django.urls import URLResolver, get_resolver

from tests.access.world import (
    ALL_SIGNED_IN,
    ANSWERERS,
    CREWS,
    ENDPOINT_MANAGERS,
    ENDPOINT_OWNERS,
    EVERYONE,
    PARTNERS,
    REFERRAL_PARTIES,
    REPORT_READERS,
    ROLES,
    Route,
    client_as,
    last_audit_id,
    problems_in,
    refused,
    state_of,
    url_for,
)

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
