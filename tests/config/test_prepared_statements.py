"""DB_PREPARE_THRESHOLD turns on psycopg's prepared statements on PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_it_leaves_statements_unprepared_by_default():
    run = _settings()
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["None", "None"]


def test_it_prepares_statements_run_that_many_times():
    run = _settings(DB_PREPARE_THRESHOLD="5")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "5"]


def test_it_refuses_a_threshold_of_zero_naming_the_variable():
    run = _settings(DB_PREPARE_THRESHOLD="0")
    assert run.returncode != 0
    assert "DB_PREPARE_THRESHOLD" in run.stderr
