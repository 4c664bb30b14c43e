"""Production is the default: development mode only when DEBUG=true is set."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.OUTBOUND_ALLOW_PRIVATE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
)


def _settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL="sqlite:///:memory:")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_unset():
    run = _settings(ALLOWED_HOSTS="frontdoor.example.nhs.uk")
    assert run.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in run.stderr


def test_it_runs_as_production_when_debug_is_unset():
    run = _settings(SECRET_KEY="a-real-secret-" + "x" * 40, ALLOWED_HOSTS="f.example")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False", "31536000", "True"]


def test_it_refuses_the_public_development_key_in_production():
    run = _settings(
        SECRET_KEY="dev-only-insecure-key-for-the-embedded-demo-never-use-in-production"
    )
    assert run.returncode != 0
    assert "public development key" in run.stderr


def test_development_mode_is_there_when_asked_for():
    run = _settings(DEBUG="true")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[:2] == ["True", "True"]


def test_it_refuses_a_field_encryption_key_that_is_not_a_fernet_key():
    run = _settings(DEBUG="true", FIELD_ENCRYPTION_KEY="not-a-key")
    assert run.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be a Fernet key" in run.stderr


def test_it_refuses_a_compressed_retry_schedule_in_production():
    run = _settings(
        SECRET_KEY="a-real-secret-" + "x" * 40, ALLOWED_HOSTS="f.example", DELIVERY_TIME_SCALE="60"
    )
    assert run.returncode != 0
    assert "DELIVERY_TIME_SCALE" in run.stderr


def test_it_refuses_a_time_scale_below_one():
    run = _settings(DEBUG="true", DELIVERY_TIME_SCALE="0")
    assert run.returncode != 0
    assert "DELIVERY_TIME_SCALE must be between 1 and 100000" in run.stderr
