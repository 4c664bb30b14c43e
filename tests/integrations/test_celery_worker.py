"""End to end with a real Celery worker process against a real broker (Redis).

Runs when CELERY_TEST_BROKER_URL is set (CI sets it for the PostgreSQL run) and the
database is PostgreSQL: the worker is another process and must see the test database.
"""

import os
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from integrations import tasks
from integrations.models import Delivery
from tests.integrations.conftest import answer, make_endpoint, make_referral
from tests.integrations.production import celery_worker, database_url, on_test_broker
from tests.integrations.receiver import Receiver

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not BROKER_URL, reason="set CELERY_TEST_BROKER_URL to run a real worker"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker needs a shared DB"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def broker(settings):
    with on_test_broker(BROKER_URL, settings) as url:
        yield url


@pytest.fixture
def worker(broker):
    env = {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "OUTBOUND_ALLOW_PRIVATE": "true",
        "DB_CONN_MAX_AGE": "0",
    }
    with celery_worker(env, "--pool=solo") as (process, _log):
        yield process


def _eventually(check, *, within: float = 60.0):
    """Wait for another process to finish its work (not a timing assertion)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.1)


def test_a_real_worker_delivers_a_referral_and_the_answers(
    worker, crew, partner, service, provider, ambulance_trust
):
    to_partner, to_crew = Receiver(), Receiver()
    try:
        partner_endpoint = make_endpoint(provider, url=to_partner.url)
        make_endpoint(ambulance_trust, url=to_crew.url)

        # The crew refers: after commit, a task is queued and the worker sends it.
        referral = make_referral(crew, service)
        (created,) = to_partner.wait_for(1)
        event = Webhook(partner_endpoint.secret).verify(created.body, created.headers)
        assert event["type"] == "referral.created"
        assert event["data"]["referral_id"] == str(referral.pk)

        # The partner answers; the crew's organisation hears of each answer.
        answer(referral, partner, "acknowledge")
        answer(referral, partner, "accept")
        received = to_crew.wait_for(2)
        assert sorted(r.json()["type"] for r in received) == [
            "referral.accepted",
            "referral.acknowledged",
        ]

        # A task lost on the way (never queued): the beat sweep finds the delivery due.
        lost = Delivery.objects.create(
            endpoint=partner_endpoint,
            event_type="endpoint.test",
            message_id="msg_lost_task_e2e",
            payload={"type": "endpoint.test"},
            next_attempt_at=timezone.now(),
        )
        tasks.sweep.delay()
        assert to_partner.wait_for(2)[1].headers["webhook-id"] == "msg_lost_task_e2e"

        _eventually(lambda: set(Delivery.objects.values_list("status", flat=True)) == {"delivered"})
        assert lost.attempts.count() == 1
    finally:
        to_partner.close()
        to_crew.close()
