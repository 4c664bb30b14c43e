"""DB_PREPARE_THRESHOLD sets when psycopg prepares a statement on PostgreSQL (on by default)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "o = s.DATABASES['default'].get('OPTIONS', {}); "
    "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
)


def _settings(**env):
    clean = {k: v for k, v in os.environ.items() if k != "DB_PREPARE_THRESHOLD"}
    clean.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_it_prepares_statements_run_five_times_by_default():
    run = _settings()
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "5"]


def test_it_prepares_statements_run_that_many_times():
    run = _settings(DB_PREPARE_THRESHOLD="2")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "2"]


def test_it_leaves_statements_unprepared_when_turned_off():
    run = _settings(DB_PREPARE_THRESHOLD="-1")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["None", "None"]


def test_it_refuses_a_threshold_of_zero_naming_the_variable():
    run = _settings(DB_PREPARE_THRESHOLD="0")
    assert run.returncode != 0
    assert "DB_PREPARE_THRESHOLD" in run.stderr


def _preparing(test):
    """PostgreSQL, with prepared statements on in this run, and a database."""
    marks = [
        pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
        pytest.mark.skipif(
            not connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold"),
            reason="DB_PREPARE_THRESHOLD=-1 in this run",
        ),
        pytest.mark.django_db,
    ]
    for mark in marks:
        test = mark(test)
    return test


def _prepared_after_six(crew, path: str, params: dict | None = None) -> list[str]:
    """The statements this connection has prepared once the crew has called path six times."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    _, token = AuthToken.objects.create(crew)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    for _ in range(6):
        answer = client.get(path, params or {})
        assert answer.status_code == 200, answer.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@_preparing
def test_it_answers_a_repeated_api_call_from_a_prepared_statement(crew):
    prepared = _prepared_after_six(crew, "/api/v1/me/")
    assert any("knox_authtoken" in statement for statement in prepared), prepared


@_preparing
def test_it_plans_the_searchs_main_statement_for_each_search(crew):
    # A generic plan for it was much slower on a large directory (directory/search/statement.py).
    search = {"lat": "51.5072", "lon": "-0.1276", "category": "falls"}
    prepared = _prepared_after_six(crew, "/api/v1/services/search/", search)
    assert any("knox_authtoken" in statement for statement in prepared), prepared
    main = [s for s in prepared if "directory_servicesearchentry" in s and "rank" in s]
    assert not main, main[0][:200]


@_preparing
def test_it_prepares_a_statement_whose_ids_fall_either_side_of_32768():
    # psycopg would type 300 as smallint and 40000 as integer: a statement counted once per
    # mix of types never reached the threshold (config/pgtypes.py).
    sql = "SELECT %s::bigint + %s::bigint AS frontdoor_probe"
    with connection.cursor() as cursor:
        for pair in [(300, 40_000), (40_000, 300), (1, 2), (70_000, 80_000), (3, 4), (5, 6)]:
            cursor.execute(sql, pair)
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("frontdoor_probe" in statement for statement in prepared), prepared
