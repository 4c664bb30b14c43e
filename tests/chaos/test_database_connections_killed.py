"""Scenario 5: every other connection to the test database terminated (pg_terminate_backend)
every second while referrals are created and delivered. Requests answer 201 or a clean 5xx
that the crew's retry with the same key mends; nothing is half-written (each referral has its
one event and its delivery, or does not exist); the web, the worker and beat recover by
themselves."""

import time

from django.db import connection

from referrals.models import Referral, ReferralEvent
from tests.chaos import harness
from tests.chaos.conftest import assert_nothing_lost, drain


def _terminate_the_others() -> int:
    """Terminate every backend on this test database but our own; never another database."""
    assert connection.settings_dict["NAME"].startswith("test_")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_it_recovers_by_itself_when_database_connections_are_terminated(
    scene, partner, redis_server, processes, workdir
):
    # Connections kept between requests, as production does: the check before reuse is
    # what must notice a terminated one.
    env = harness.process_env(CELERY_BROKER_URL=redis_server.url, DB_CONN_MAX_AGE="60")
    web = harness.web(harness.production_web_env(env), workdir)
    worker = harness.celery("worker", env, workdir)
    beat = harness.celery("beat", env, workdir)
    processes.extend([web, worker, beat])
    for process in processes:
        process.start()
    harness.wait_for_http(harness.WEB_PORT)

    load = harness.Load(scene["token"], scene["service"].pk, harness.REFERRALS)
    load.start()
    rounds = terminated = 0
    while not load.done.wait(1):
        terminated += _terminate_the_others()
        rounds += 1
    # The delivery side meets a few more terminations while it drains.
    for _ in range(3):
        terminated += _terminate_the_others()
        time.sleep(1)
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    assert terminated > 0
    # A create that lost its connection answered the API's one error shape, nothing more.
    for body in load.server_errors:
        assert body["error"]["code"] == "server_error", body
    assert ReferralEvent.objects.count() == Referral.objects.count() == load.count
    assert web.alive() and worker.alive() and beat.alive()
    assert worker.starts == 1
    harness.record(
        "5 DB connections terminated every 1 s",
        **{"connections terminated": terminated},
        **figures,
        **{"5xx answered": sum(v for k, v in load.statuses.items() if k != "dropped" and k >= 500)},
        **{"drain s": round(drained, 1)},
    )
