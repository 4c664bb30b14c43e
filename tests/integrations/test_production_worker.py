"""The README's worker and beat, started exactly as printed, deliver; and survive their broker
dying and coming back.

Runs when CELERY_TEST_BROKER_URL is set (CI sets it for the PostgreSQL run), the database is
PostgreSQL (the worker is another process and must see the test database) and redis-server
is installed. The broker is a redis-server of this test's own, on CELERY_TEST_REDIS_PORT (or a
free port), which the test kills and restarts; CELERY_TEST_BROKER_URL itself is not used.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app
from integrations import queueing
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral
from tests.integrations.production import (
    ROOT,
    RedisServer,
    database_url,
    free_port,
    readme_commands,
)
from tests.integrations.receiver import Receiver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("CELERY_TEST_BROKER_URL"),
        reason="set CELERY_TEST_BROKER_URL to run real Celery processes",
    ),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker needs a shared DB"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def redis_server():
    server = RedisServer(int(os.environ.get("CELERY_TEST_REDIS_PORT") or free_port()))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def broker(redis_server, settings, monkeypatch):
    """This process (the web side) publishes to the test's own broker, as production would."""
    settings.CELERY_BROKER_URL = redis_server.url
    settings.DELIVERY_SWEEP_SECONDS = 1
    monkeypatch.setattr(queueing, "_broker_quiet_until", 0.0)
    previous = app.conf.broker_url
    app.conf.broker_url = redis_server.url
    app.close()
    yield redis_server
    queueing._publisher_drop()
    app.close()
    app.conf.broker_url = previous


@pytest.fixture
def readme_processes(broker):
    """The README's `celery ... worker` and `celery ... beat` lines, run as printed."""
    commands = readme_commands()
    celery = str(Path(sys.executable).with_name("celery"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker.url,
        "OUTBOUND_ALLOW_PRIVATE": "true",
        "DELIVERY_SWEEP_SECONDS": "1",
        "DB_CONN_MAX_AGE": "0",
    }
    processes = {}
    with tempfile.TemporaryDirectory() as tmp:  # beat writes its schedule file here
        logs = {name: Path(tmp) / f"{name}.log" for name in commands}
        try:
            for name, argv in commands.items():
                assert argv[0] == "celery"
                with logs[name].open("wb") as log:
                    processes[name] = subprocess.Popen(
                        [celery, *argv[1:]], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
            yield processes, logs
        finally:
            for process in processes.values():
                process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for name, path in logs.items():
                if path.exists():
                    print(f"--- {name} log (end) ---\n{path.read_text(errors='replace')[-4000:]}")


def _eventually(check, *, within: float = 60.0) -> None:
    """Wait for another process to record its work (not a timing assertion)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.1)


def test_the_readme_commands_deliver_and_outlive_a_broker_outage(
    readme_processes, broker, crew, service, provider
):
    processes, logs = readme_processes
    partner = Receiver()
    try:
        make_endpoint(provider, url=partner.url)

        # As printed in the README, with no -Q: the worker consumes what settings route.
        make_referral(crew, service)
        partner.wait_for(1, within=90)

        # The broker dies. A crew still refers; the outbox keeps the delivery.
        broker.kill()
        time.sleep(3)  # an outage, not a test of timing: let the worker lose its connection
        during = make_referral(crew, service)
        time.sleep(3)
        assert processes["worker"].poll() is None

        # The broker comes back (empty: what it held is gone). Beat's sweep queues what is
        # due from the outbox, and the same worker, never restarted, delivers it and more.
        broker.start()
        received = partner.wait_for(2, within=120)
        assert received[1].json()["data"]["referral_id"] == str(during.pk)
        after = make_referral(crew, service)
        received = partner.wait_for(3, within=120)
        assert received[2].json()["data"]["referral_id"] == str(after.pk)

        assert processes["worker"].poll() is None
        assert processes["beat"].poll() is None
        assert "Unrecoverable error" not in logs["worker"].read_text(errors="replace")
        _eventually(lambda: set(Delivery.objects.values_list("status", flat=True)) == {"delivered"})
    finally:
        partner.close()
