"""Two senders (workers, loops) racing for the same deliveries never both send one."""

import threading
from collections import Counter

import pytest
from django.db import connection

from integrations import sending
from integrations.models import Delivery, DeliveryAttempt
from tests.integrations.conftest import make_endpoint, make_referral

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locking"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SENDERS = 8
DELIVERIES = 20


def test_it_sends_each_delivery_once_however_many_senders_race(crew, service, provider, receiver):
    make_endpoint(provider, url=receiver.url)
    for _ in range(DELIVERIES):
        make_referral(crew, service)
    ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
    start = threading.Barrier(SENDERS)
    won: list[int] = []

    def sender():
        try:
            start.wait()
            for delivery_id in ids:
                if sending.delivery_send(delivery_id=delivery_id) is not None:
                    won.append(delivery_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(won) == ids
    per_message = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert len(per_message) == DELIVERIES
    assert set(per_message.values()) == {1}
    assert DeliveryAttempt.objects.count() == DELIVERIES
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
