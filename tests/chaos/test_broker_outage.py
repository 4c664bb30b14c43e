"""Scenario 2: the broker (a redis-server of the test's own) stopped twice while referrals
are created, started again after 10 s each time. Creation keeps answering 201 while it is
down (the outbox holds the work), and the worker and beat, never restarted, deliver it all."""

import time

from tests.chaos import harness
from tests.chaos.conftest import assert_nothing_lost, drain


def test_it_answers_201_and_delivers_everything_through_two_broker_outages(
    scene, partner, redis_server, processes, workdir
):
    env = harness.process_env(CELERY_BROKER_URL=redis_server.url)
    web, worker, beat = harness.start_stack(processes, env, workdir)

    load = harness.Load(scene["token"], scene["service"].pk, harness.REFERRALS)
    load.start()
    created_while_down = 0
    for share in (0.2, 0.6):
        harness.eventually(
            lambda share=share: len(load.created) >= share * load.count or load.done.is_set(),
            within=600,
            what="referrals being created",
        )
        before = len(load.created)
        redis_server.kill()
        time.sleep(10)  # the outage itself, not a measurement
        created_while_down += len(load.created) - before
        redis_server.start()
    load.done.wait(600)
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    # Every create answered 201 on its first try, outage or not.
    assert set(load.statuses) == {201}, load.statuses
    assert created_while_down > 0
    assert worker.starts == 1 and worker.alive() and beat.alive()
    harness.record(
        "2 broker down 10 s, twice",
        **{"201 while down": created_while_down},
        **figures,
        **{"drain s": round(drained, 1)},
    )
