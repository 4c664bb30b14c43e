"""Scenario 1: the Celery worker SIGKILLed every 2 s while referrals are created, and
restarted each time (as its supervisor would). Nothing is lost: the outbox and the sweep
bring back every task a dead worker held."""

from tests.chaos import harness
from tests.chaos.conftest import assert_nothing_lost, drain


def test_it_delivers_every_referral_while_the_worker_is_killed_every_two_seconds(
    scene, partner, redis_server, processes, workdir
):
    env = harness.process_env(CELERY_BROKER_URL=redis_server.url)
    web, worker, beat = harness.start_stack(processes, env, workdir)

    load = harness.Load(scene["token"], scene["service"].pk, harness.REFERRALS)
    load.start()
    kills = 0
    while not load.done.wait(2):
        worker.kill()
        kills += 1
        worker.start()
    assert worker.alive()
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    harness.record(
        "1 worker SIGKILL every 2 s", kills=kills, **figures, **{"drain s": round(drained, 1)}
    )
