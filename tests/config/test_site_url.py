"""Settings come from the environment; SITE_URL follows the port the demo is served on."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_value(name: str, **env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with exactly this environment."""
    environment = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT"}}
    environment.update(env)
    code = f"import config.settings as s; print(s.{name})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_it_links_to_the_port_the_demo_is_served_on():
    answer = settings_value("SITE_URL", PORT="8123")
    assert answer.stdout.strip() == "http://127.0.0.1:8123"


def test_it_keeps_an_explicit_site_url_whatever_the_port():
    answer = settings_value("SITE_URL", PORT="8123", SITE_URL="https://frontdoor.example/")
    assert answer.stdout.strip() == "https://frontdoor.example"


def test_it_stops_on_a_bad_port_naming_the_variable():
    answer = settings_value("SITE_URL", PORT="eighty")
    assert answer.returncode != 0
    assert "PORT" in answer.stderr
