"""Races on PostgreSQL with real threads, each on its own database connection.

The last slot: with one slot left and 16 crews referring at once, exactly one wins. The
same race run against a deliberately naive read-then-write shows several winners, which
proves the race really happens and this test can fail.
Idempotency: 50 simultaneous retries of one POST create one referral.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from config.errors import Conflict
from directory.models import Service
from referrals import services
from referrals.models import IdempotencyKey, Referral, ReferralEvent
from tests.referrals.factories import referral_body, validated

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    # Real commits from other threads; serialized_rollback restores the reference data
    # (boroughs, categories) that the flush at the end would otherwise remove.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def run_at_once(count: int, work: Callable[[threading.Barrier], object]) -> list:
    """Run work in `count` threads released together; return each one's result or error."""
    # The timeout only stops a broken run from hanging; nothing is measured.
    barrier = threading.Barrier(count, timeout=60)
    results: list = [None] * count

    def thread(index: int) -> None:
        try:
            results[index] = work(barrier)
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            results[index] = error
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def naive_referral_create(*, user, data, barrier: threading.Barrier) -> str:
    """The bug we guard against: read the slots, decide in Python, then write."""
    with transaction.atomic():
        service = Service.objects.get(pk=data["service"])
        if service.capacity_slots < 1:
            raise Conflict("The service has no slots left.", code="no_capacity")
        barrier.wait()  # every crew has seen "1 left" before anyone writes
        Service.objects.filter(pk=service.pk).update(capacity_slots=service.capacity_slots - 1)
    return "won"


def test_exactly_one_of_16_crews_gets_the_last_slot(crew, service):
    Service.objects.filter(pk=service.pk).update(capacity_slots=1)
    data = validated(service)

    def refer(barrier):
        barrier.wait()
        return services.referral_create(user=crew, data=data)

    results = run_at_once(16, refer)

    winners = [r for r in results if isinstance(r, Referral)]
    refused = [r for r in results if isinstance(r, Conflict) and r.code == "no_capacity"]
    assert len(winners) == 1, results
    assert len(refused) == 15, results
    assert Service.objects.get(pk=service.pk).capacity_slots == 0
    assert Referral.objects.count() == 1
    assert ReferralEvent.objects.count() == 1


def test_the_naive_read_then_write_lets_more_than_one_crew_in(crew, service):
    Service.objects.filter(pk=service.pk).update(capacity_slots=1)
    data = validated(service)

    results = run_at_once(
        16, lambda barrier: naive_referral_create(user=crew, data=data, barrier=barrier)
    )

    assert sum(1 for r in results if r == "won") > 1, results


def test_50_simultaneous_retries_of_one_post_create_one_referral(crew, service):
    body = referral_body(service)
    key = str(uuid.uuid4())

    def post(barrier):
        client = APIClient()
        client.force_authenticate(crew)
        barrier.wait()
        answer = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        return answer.status_code, answer.json()

    results = run_at_once(50, post)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    codes = Counter(status for status, _ in results)
    assert set(codes) <= {201, 409}, codes
    assert codes[201] >= 1
    assert {b["error"]["code"] for s, b in results if s == 409} <= {"request_in_flight"}
    assert len({b["id"] for s, b in results if s == 201}) == 1
    assert Referral.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1

    # Once the first has finished, every retry gets its answer.
    client = APIClient()
    client.force_authenticate(crew)
    again = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201
    assert again.json()["id"] == next(b["id"] for s, b in results if s == 201)


def test_50_simultaneous_posts_with_one_key_and_different_bodies_create_one_referral(crew, service):
    key = str(uuid.uuid4())

    def post(barrier):
        body = referral_body(service, incident_reference=f"CAD-{uuid.uuid4().hex[:12]}")
        client = APIClient()
        client.force_authenticate(crew)
        barrier.wait()
        answer = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        return answer.status_code

    results = run_at_once(50, post)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count(201) == 1, Counter(results)
    assert set(results) <= {201, 409, 422}
    assert Referral.objects.count() == 1
