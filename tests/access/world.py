"""The access matrix's world and the checks both its tests make: the roles, a route's rights
(Route), what a user would notice in a response (patient markers, secrets, refusals) and
the audit trail. The world itself is the `world` fixture in conftest.py."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from rest_framework.test import APIClient

from integrations.models import Delivery, Endpoint
from referrals.models import PatientAccess, Referral, ReferralEvent
from tests.referrals.factories import TEST_NHS_NUMBER

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
