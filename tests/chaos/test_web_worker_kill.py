"""Scenario 4: a gunicorn worker SIGKILLed straight after commits while referrals are created
(gunicorn starts another). No referral is left without its delivery, a crew's retry with the
same Idempotency-Key never makes a second referral, and a key replayed afterwards gets the
first answer."""

import os
import random
import signal
import time

from referrals.models import Referral
from tests.chaos import harness
from tests.chaos.conftest import assert_nothing_lost, drain


def test_it_loses_no_referral_and_no_delivery_when_web_workers_die_after_commits(
    scene, partner, redis_server, processes, workdir
):
    env = harness.process_env(CELERY_BROKER_URL=redis_server.url)
    web, worker, beat = harness.start_stack(processes, env, workdir)

    load = harness.Load(scene["token"], scene["service"].pk, harness.REFERRALS)
    load.start()
    kills, seen = 0, 0
    while not load.done.is_set():
        committed = Referral.objects.count()
        if committed > seen:  # a create has just committed: kill a web worker now
            seen = committed
            workers = harness.gunicorn_workers(web)
            if workers:
                os.kill(random.choice(workers), signal.SIGKILL)
                kills += 1
                time.sleep(1)  # let gunicorn start another before the next kill
        time.sleep(0.02)
    assert web.alive()
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    assert kills > 0
    # Replayed afterwards with the same key (and body), a create answers as it first did.
    for key in random.sample(sorted(load.created), 20):
        status, answer = load.replay(key)
        assert (status, answer) == (201, load.first_answers[key])
    assert Referral.objects.count() == load.count
    harness.record(
        "4 gunicorn worker SIGKILL after commits",
        kills=kills,
        **figures,
        **{"drain s": round(drained, 1)},
    )
