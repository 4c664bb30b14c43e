"""Referral create: how many statements one POST sends to the database (a count, not a
timing). Each is a round trip on the request path; a change that adds one shows up here."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from integrations.models import Delivery, Endpoint
from tests.referrals.factories import referral_body

URL = "/api/v1/referrals/"

# token+user+organisation, key claim, service with its boroughs covered, hours and the
# receiving organisation's endpoints, referral and event (one statement on PostgreSQL), the
# outbox's deliveries, key answer.
QUERIES_PER_REFERRAL = {"postgresql": 6, "sqlite": 7}


def _post(token: str, body: dict, key: str):
    return APIClient().post(
        URL, body, format="json", HTTP_AUTHORIZATION=f"Token {token}", HTTP_IDEMPOTENCY_KEY=key
    )


def _statements(queries) -> list[str]:
    """What the request sends, less the savepoint around idempotent_response that the
    test's own transaction adds (in production that transaction is BEGIN ... COMMIT)."""
    sent = [q["sql"] for q in queries.captured_queries]
    return [sql for sql in sent if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_it_sends_a_referral_with_its_webhook_in_six_statements_on_postgresql(
    crew, provider, service
):
    Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url="https://example.invalid/hook"
    )
    _, token = AuthToken.objects.create(crew, timedelta(hours=1))
    # A process that has sent one referral already holds the categories and the postcode.
    assert _post(token, referral_body(service), key="first").status_code == 201

    with CaptureQueriesContext(connection) as queries:
        answer = _post(token, referral_body(service), key="second")

    assert answer.status_code == 201
    assert Delivery.objects.count() == 2
    expected = QUERIES_PER_REFERRAL[connection.vendor]
    assert len(_statements(queries)) == expected, "\n".join(_statements(queries))


def test_it_takes_no_savepoint_inside_the_idempotency_transaction(crew, service):
    _, token = AuthToken.objects.create(crew, timedelta(hours=1))

    with CaptureQueriesContext(connection) as queries:
        assert _post(token, referral_body(service), key="only").status_code == 201

    # The test's own transaction makes idempotent_response's atomic() one savepoint; the
    # create adds none of its own.
    savepoints = [q for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1


def test_it_reads_a_patients_postcode_once_per_process(crew, service):
    _, token = AuthToken.objects.create(crew, timedelta(hours=1))
    assert _post(token, referral_body(service), key="first").status_code == 201

    with CaptureQueriesContext(connection) as queries:
        assert _post(token, referral_body(service), key="second").status_code == 201

    postcode_reads = [sql for sql in _statements(queries) if "directory_postcode" in sql]
    assert postcode_reads == []
