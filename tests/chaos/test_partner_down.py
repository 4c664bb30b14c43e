"""Scenario 3: the partner's receiver down in each way it can be, against the README's worker
and beat with the retry schedule compressed (DELIVERY_TIME_SCALE=2880: a day in 30 s).

503 for 30 compressed hours, then 200: the 24 h window ends first, operators are told of each
failed delivery, and their replay delivers it. 410: the endpoint is switched off, operators
are told, and once it is back on a replay delivers. 429 with Retry-After: the wait is
honoured. A hang: each attempt ends at the timeout and the worker goes on to the next.
"""

import time
from pathlib import Path

import pytest

from integrations import outbox
from integrations.models import Delivery, DeliveryAttempt, Endpoint
from tests.chaos import harness
from tests.chaos.conftest import assert_nothing_lost, drain

# Fewer here: each case is about one partner's answers, and a hang costs its timeout each.
REFERRALS = min(harness.REFERRALS, 30)
HOUR = 3600 / harness.TIME_SCALE  # one compressed hour, in real seconds


@pytest.fixture
def celery_side(redis_server, processes, workdir):
    env = harness.process_env(
        CELERY_BROKER_URL=redis_server.url,
        EMAIL_URL="filemail:///mail",  # relative to the workdir: operators' emails land there
        OPERATOR_EMAILS="oncall@frontdoor.test",
    )
    web, worker, beat = harness.start_stack(processes, env, workdir)
    return {"worker": worker, "beat": beat}


def _emails(workdir: Path) -> list[str]:
    """Every email sent so far (the file backend may append several to one file)."""
    folder = workdir / "mail"
    if not folder.exists():
        return []
    text = "".join(p.read_text() for p in sorted(folder.iterdir()))
    return ["Subject: " + part for part in text.split("\nSubject: ")[1:]]


def _create(scene) -> harness.Load:
    load = harness.Load(scene["token"], scene["service"].pk, REFERRALS)
    load.run()
    return load


def test_it_fails_after_the_window_tells_operators_and_a_replay_delivers_after_30_hours_of_503(
    scene, partner, celery_side, workdir
):
    partner.mode, partner.retry_after = 503, ""
    down_since = time.monotonic()
    load = _create(scene)
    time.sleep(max(0.0, down_since + 30 * HOUR - time.monotonic()))  # the outage
    partner.mode = 200
    harness.eventually(
        lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists(),
        within=120,
        what="every delivery delivered or failed",
    )
    failed = list(
        Delivery.objects.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True)
    )
    # The window (24 compressed hours) ended before the partner came back.
    assert failed
    harness.eventually(
        lambda: len(_emails(workdir)) >= len(failed), within=30, what="operators told"
    )
    tries = min(Delivery.objects.filter(pk__in=failed).values_list("attempt_count", flat=True))
    began = time.monotonic()
    for delivery_id in failed:  # what an operator does from the admin
        outbox.delivery_replay(delivery_id=delivery_id)
    drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    assert any("failed after" in email for email in _emails(workdir))
    harness.record(
        "3a partner 503 for 30 h (compressed)",
        **{"failed at 24 h": len(failed), "attempts before": tries},
        **figures,
        **{"drain s": round(time.monotonic() - began, 1)},
    )


def test_it_switches_off_on_410_tells_operators_and_delivers_once_back_on(
    scene, partner, celery_side, workdir
):
    partner.mode = 410
    # Events after the switch-off are not written for it at all (nobody listens there), so
    # the referrals are all made first, and the sending starts after.
    for process in celery_side.values():
        process.stop()
    load = _create(scene)
    for process in celery_side.values():
        process.start()
    harness.eventually(
        lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists(),
        within=120,
        what="every delivery cancelled",
    )
    endpoint = Endpoint.objects.get(pk=scene["endpoint"].pk)
    assert not endpoint.active and "410" in endpoint.disabled_reason
    assert set(Delivery.objects.values_list("status", flat=True)) == {"cancelled"}
    emails = _emails(workdir)
    assert len(emails) == 1 and "410 Gone" in emails[0]

    partner.mode = 200
    Endpoint.objects.filter(pk=endpoint.pk).update(active=True, disabled_reason="")
    for delivery_id in Delivery.objects.values_list("pk", flat=True):
        outbox.delivery_replay(delivery_id=delivery_id)
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    harness.record("3b partner 410, then back on", **figures, **{"drain s": round(drained, 1)})


def test_it_waits_as_long_as_a_429_asks(scene, partner, celery_side):
    partner.mode, partner.retry_after, partner.per_message = 429, "3", True
    load = _create(scene)
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    hits = partner.snapshot()
    gaps = []
    for webhook_id in {h.webhook_id for h in hits}:
        first, second = [h for h in hits if h.webhook_id == webhook_id][:2]
        assert (first.answered, second.answered) == (429, 200)
        gaps.append(second.at - first.at)
    # Without Retry-After the compressed schedule would try again within a sweep (1 s).
    assert min(gaps) >= 3 - 0.1, min(gaps)
    harness.record(
        "3c partner 429 Retry-After: 3",
        **{"shortest wait s": round(min(gaps), 2)},
        **figures,
        **{"drain s": round(drained, 1)},
    )


def test_it_bounds_a_hang_by_the_timeout_and_goes_on(scene, partner, celery_side):
    partner.mode, partner.per_message = "hang", True
    load = _create(scene)
    drained = drain(referrals=load.count)

    figures = assert_nothing_lost(load, partner)
    hung = DeliveryAttempt.objects.exclude(error="")
    assert hung.count() == load.count  # each message's first attempt, and only that
    # OUTBOUND_TIMEOUT_SECONDS=2 ends each hung attempt; none held its sender longer.
    assert max(hung.values_list("duration_ms", flat=True)) < 2000 + 1500
    assert celery_side["worker"].starts == 1 and celery_side["worker"].alive()
    harness.record(
        "3d partner hangs (timeout 2 s)",
        **{"hung attempts": hung.count()},
        **figures,
        **{"drain s": round(drained, 1)},
    )
