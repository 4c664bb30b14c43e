"""The embedded loop as its own process: a backlog to one partner goes out send after send,
not a slot's worth per poll."""

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection

from tests.integrations.conftest import make_endpoint, make_referral
from tests.integrations.production import ROOT, database_url
from tests.integrations.receiver import Receiver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process needs a server"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_it_sends_the_next_delivery_as_a_send_ends_not_at_the_next_poll(crew, service, provider):
    receiver = Receiver()
    make_endpoint(provider, url=receiver.url)
    for _ in range(6):
        make_referral(crew, service)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "OUTBOUND_ALLOW_PRIVATE": "true",
        "DB_CONN_MAX_AGE": "0",
        # Two at a time to this partner, and a poll long enough to see: the six would take
        # two more polls (20 s) if each waited for one.
        "DELIVERY_ENDPOINT_CONCURRENCY": "2",
        "DELIVERY_POLL_MS": "10000",
    }
    loop = subprocess.Popen(
        [sys.executable, "manage.py", "run_deliveries"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        receiver.wait_for(1, within=60)  # the process is up and has begun
        received = receiver.wait_for(6, within=10)
        assert len({r.headers["webhook-id"] for r in received}) == 6
    finally:
        os.killpg(loop.pid, signal.SIGTERM)
        loop.wait(timeout=30)
        receiver.close()
