"""The fault-injection suite (issue 8): real processes, real faults, one invariant.

Marked `chaos`, run only with CHAOS=1 on PostgreSQL (the processes share the test database)
with redis-server installed; `.ci/run` runs it as its own step. See harness.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection
from knox.models import AuthToken

from integrations.models import Delivery, Endpoint
from referrals.models import Referral
from tests.chaos import harness
from tests.factories import ServiceFactory
from tests.integrations.production import RedisServer


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    skip = None
    if not os.environ.get("CHAOS"):
        skip = pytest.mark.skip(reason="the chaos suite runs with CHAOS=1 (CI's chaos step)")
    elif connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="the chaos suite needs PostgreSQL (shared by processes)")
    elif not shutil.which("redis-server"):
        skip = pytest.mark.skip(reason="the chaos suite needs redis-server")
    for item in items:
        if "tests/chaos/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.chaos)
            # Other processes write the database: real commits, and the migrations' data
            # (boroughs, categories) put back after each test's flush.
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))
            if skip:
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    text = harness.table()
    if text:
        terminalreporter.write_sep("=", "chaos figures")
        terminalreporter.write_line(text)


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        yield Path(tmp)


@pytest.fixture
def partner():
    receiver = harness.SwitchableReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def scene(crew, provider, partner):
    """A crew with an API token, a service open round the clock, its partner's webhook."""
    service = ServiceFactory(organisation=provider, name="Chaos Falls Response")
    endpoint = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url=partner.url
    )
    _, token = AuthToken.objects.create(user=crew)
    return {"service": service, "endpoint": endpoint, "token": token}


@pytest.fixture
def redis_server():
    server = RedisServer(harness.REDIS_PORT)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def processes(workdir):
    """Started processes register here; all are stopped (by their group) at the end."""
    started: list[harness.Process] = []
    yield started
    for process in started:
        process.stop()
    for process in started:
        tail = process.tail(1500)
        if tail.strip():
            print(f"--- {process.name} log (end) ---\n{tail}")


def drain(*, referrals: int, within: float | None = None) -> float:
    """Wait until every referral's delivery is delivered; the seconds it took."""
    within = within or float(os.environ.get("CHAOS_DRAIN_SECONDS", "300"))
    began = time.monotonic()
    try:
        harness.eventually(
            lambda: Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() >= referrals,
            within=within,
            what=f"{referrals} deliveries delivered",
        )
    except AssertionError as exc:
        stuck = Delivery.objects.exclude(status=Delivery.Status.DELIVERED).values(
            "status", "next_attempt_at", "locked_until", "retry_until", "attempt_count",
            "endpoint__active", "last_error",
        )[:3]  # fmt: skip
        raise AssertionError(f"{exc}; not delivered: {list(stuck)}") from None
    return time.monotonic() - began


def assert_nothing_lost(load: harness.Load, partner: harness.SwitchableReceiver) -> dict:
    """The invariant: every referral answered 201 was delivered at least once, and the
    partner saw exactly as many distinct webhook-ids as referrals. Returns the figures."""
    answered = set(load.created.values())
    assert not getattr(load, "errors", []), load.errors
    assert len(answered) == load.count, "a referral never answered 201"
    # No referral written twice by a retried request, none without its delivery.
    assert Referral.objects.count() == load.count
    assert not Referral.objects.exclude(events__deliveries__isnull=False).exists()

    hits = partner.snapshot()
    delivered_ids = {h.referral_id for h in hits if h.answered == 200}
    assert answered <= delivered_ids, f"{len(answered - delivered_ids)} referrals never delivered"
    distinct = {h.webhook_id for h in hits}
    assert len(distinct) == load.count, f"{len(distinct)} webhook-ids for {load.count} referrals"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    per_id = partner.delivered_webhook_ids()
    return {
        "referrals": load.count,
        "answered 201": len(answered),
        "deliveries": len(per_id),
        "requests seen": len(hits),
        "duplicates seen": sum(n - 1 for n in per_id.values()),
        "create s": round(load.finished - load.started, 1),
        "slowest 201 s": round(load.worst_seconds, 2),
        "retried creates": sum(v for k, v in load.statuses.items() if k != 201),
    }
