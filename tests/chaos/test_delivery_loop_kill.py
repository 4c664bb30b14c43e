"""Scenario 6: no broker. The embedded `run_deliveries` loop SIGKILLed every 2 s while
referrals are created, and restarted each time: the outbox alone brings everything through."""

from tests.chaos import harness
from tests.chaos.conftest import assert_nothing_lost, drain


def test_it_delivers_every_referral_while_the_delivery_loop_is_killed_every_two_seconds(
    scene, partner, processes, workdir
):
    env = harness.process_env(CELERY_BROKER_URL="")
    web = harness.web(env, workdir)
    loop = harness.delivery_loop(env, workdir)
    harness.start_all(processes, web, loop)

    load = harness.Load(scene["token"], scene["service"].pk, harness.REFERRALS)
    load.start()
    kills = 0
    while not load.done.wait(2):
        loop.kill()
        kills += 1
        loop.start()
    assert loop.alive()
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    harness.record(
        "6 run_deliveries SIGKILL every 2 s",
        kills=kills,
        **figures,
        **{"drain s": round(drained, 1)},
    )
