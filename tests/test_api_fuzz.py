"""Schemathesis against /api/schema/, in-process (the WSGI app; no network, no server).

Every operation the schema describes gets generated requests, each sent with every role's
token and with none. Each answer: no 5xx; status, content type, headers and body as the
schema says; a 4xx under /api/v1/ in the one error shape {"error": {"code", "message",
"fields"}}; and without a token nothing but the public routes answers 2xx.

FUZZ_EXAMPLES sets how many requests Hypothesis makes per operation (default 4, quick
enough for `make test`); .ci/run sets it higher on its PostgreSQL pass. FUZZ_COVERAGE=1 adds
Schemathesis's coverage phase (every documented boundary and wrong type of every parameter,
about 1,700 cases: three quarters of this module's time), which .ci/run's PostgreSQL pass
turns on and the everyday loop leaves off.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    unsupported_method,
)

from directory.models import Role
from tests.factories import OrganisationFactory, ServiceFactory, UserFactory
from tests.referrals.factories import referral_create

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))

# Routes an anonymous caller may reach, and why (the rest must answer 401/403/404).
PUBLIC = {
    "/api/v1/auth/token/": "where a device signs in (POST); throttled by django-axes",
}
PUBLIC_PREFIXES = {"/hsds/": "Open Referral HSDS: the directory for anyone, read-only"}
# Answers in FHIR's OperationOutcome, not the API's error shape: the FHIR routes.
FHIR_PREFIX = "/api/v1/fhir/"


def _load_schema():
    from config.wsgi import application

    # The schema view reads no table, so it loads at collection, before any database.
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = _load_schema()
schema.config.phases.coverage.enabled = os.environ.get("FUZZ_COVERAGE", "0") == "1"


@pytest.fixture
def _one_connection():
    """Requests through the bare WSGI app close the database connection when they end (the
    test client turns that off): on PostgreSQL that would close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, _one_connection):
    """A token for each role, with a referral and endpoint in reach so ids can hit rows."""
    trust = OrganisationFactory(name="Fuzz Ambulance (test)")
    provider = OrganisationFactory(name="Fuzz Provider (test)")
    people = {
        "crew": UserFactory(username="fz-crew", organisation=trust, role=Role.CREW),
        "partner": UserFactory(username="fz-partner", organisation=provider, role=Role.PARTNER),
        "other_partner": UserFactory(username="fz-partner2", role=Role.PARTNER),
        "planner": UserFactory(username="fz-planner", role=Role.PLANNER),
        "operator": UserFactory(username="fz-operator", role=Role.OPERATOR, is_staff=True),
    }
    service = ServiceFactory(organisation=provider, name="Fuzz Falls Response")
    referral_create(people["crew"], service)
    return {role: AuthToken.objects.create(user)[1] for role, user in people.items()}


def error_shape_problem(response) -> str | None:
    """Why a 4xx body is not {"error": {"code", "message", "fields"}}, or None."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:120]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not {"code", "message", "fields"} <= set(error):
        return f"not the error shape: {str(body)[:200]}"
    return None


EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection, unsupported_method]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_it_answers_every_generated_request_as_the_schema_says(case, tokens):
    path = case.operation.path
    for role, token in [*tokens.items(), ("anonymous", None)]:
        headers = {"Authorization": f"Token {token}"} if token else {}
        headers["Idempotency-Key"] = f"fuzz-{role}"
        response = case.call(headers=headers)
        # The default checks (no 5xx; status, content type, headers and body as documented)
        # less three that judge rules, not answers: a valid-looking id that names no row is
        # a 400 here, an empty query parameter means "not given" (as forms send it), and an
        # anonymous call to a wrong method is 401 before 405.
        case.validate_response(response, headers=headers, excluded_checks=EXCLUDED_CHECKS)
        status = response.status_code
        if 400 <= status < 500 and not path.startswith(FHIR_PREFIX):
            problem = error_shape_problem(response)
            assert problem is None, f"{case.method} {path} as {role}: {status} {problem}"
        if role == "anonymous" and 200 <= status < 300:
            public = path in PUBLIC or path.startswith(tuple(PUBLIC_PREFIXES))
            assert public, f"{case.method} {path} answered {status} without a token"
