"""A database connection dropped between requests (a restart, a proxy) costs a reconnect."""

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory
from knox.models import AuthToken

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _get(path: str, token: str) -> int:
    """One request through Django's real WSGI handler, whose request_started signal is the
    one that checks kept connections (the test client switches that off)."""
    environ = RequestFactory().get(path, HTTP_AUTHORIZATION=f"Token {token}").environ
    statuses = []
    WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    return int(statuses[0].split()[0])


def _terminate(backend_pid: int) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def test_a_request_after_the_database_dropped_the_connection_succeeds(crew):
    _, token = AuthToken.objects.create(crew)
    assert _get("/api/v1/me/", token) == 200
    assert connection.connection is not None  # kept for the next request (CONN_MAX_AGE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend_pid,) = cursor.fetchone()

    _terminate(backend_pid)

    assert _get("/api/v1/me/", token) == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != backend_pid
