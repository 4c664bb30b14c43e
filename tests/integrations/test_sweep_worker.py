"""A real Celery worker against a real broker drains a backlog from one sweep: each finished
send queues its endpoint's next, and no task is queued that finds nothing to send.

Runs when CELERY_TEST_BROKER_URL is set and the database is PostgreSQL, as
test_celery_worker.py does.
"""

import os
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from integrations import tasks
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint
from tests.integrations.production import celery_worker, database_url, on_test_broker

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not BROKER_URL, reason="set CELERY_TEST_BROKER_URL to run a real worker"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker needs a shared DB"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def worker_log(settings):
    """A worker (4 processes, each endpoint's 2 slots and room to spare) on the test broker;
    yields the path of its log, which records every task it received."""
    with on_test_broker(BROKER_URL, settings):
        env = {
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
            "OUTBOUND_ALLOW_PRIVATE": "true",
            "DELIVERY_ENDPOINT_CONCURRENCY": "2",
        }
        with celery_worker(env, "--concurrency", "4") as (_process, log_path):
            yield log_path


def _eventually(check, *, within: float = 60.0):
    """Wait for another process to finish its work (not a timing assertion)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.1)


def test_it_drains_a_backlog_from_one_sweep_with_one_task_per_delivery(
    worker_log, provider, receiver
):
    endpoint = make_endpoint(provider, url=receiver.url)
    for n in range(12):  # written while no task was queued for them (lost, or never queued)
        Delivery.objects.create(
            endpoint=endpoint,
            event_type="endpoint.test",
            message_id=f"msg_backlog_{n}",
            payload={"type": "endpoint.test"},
            next_attempt_at=timezone.now(),
        )

    tasks.sweep.delay()  # one sweep only: the sends queue the rest
    _eventually(lambda: not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists())

    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(
        f"msg_backlog_{n}" for n in range(12)
    )
    lines = worker_log.read_text(errors="replace").splitlines()
    received = [line for line in lines if "integrations.deliver[" in line and "received" in line]
    assert len(received) == 12
