"""A partner that hangs holds a few senders, never all of them: other partners still hear."""

import queue
import threading

import pytest
from django.db import connection

from integrations import sending
from integrations.models import Delivery
from tests.factories import ServiceFactory
from tests.integrations.conftest import make_endpoint, make_referral
from tests.integrations.receiver import Answer, Receiver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locking"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SENDERS = 4  # a worker's slots (celery --concurrency, run_deliveries --threads)


def test_a_hanging_partner_does_not_hold_up_another_partners_delivery(
    crew, service, provider, other_provider, settings
):
    settings.OUTBOUND_TIMEOUT_SECONDS = 60
    settings.DELIVERY_ENDPOINT_CONCURRENCY = 2
    hanging, healthy = Receiver(*[Answer(hang=True)] * 10), Receiver()
    threads: list[threading.Thread] = []
    try:
        make_endpoint(provider, url=hanging.url)
        make_endpoint(other_provider, url=healthy.url)
        for _ in range(6):
            make_referral(crew, service)  # six deliveries to the hanging partner, queued first
        make_referral(crew, ServiceFactory(organisation=other_provider))
        work: queue.Queue[int] = queue.Queue()
        for delivery_id in Delivery.objects.order_by("id").values_list("id", flat=True):
            work.put(delivery_id)

        def sender():
            try:
                while True:
                    try:
                        delivery_id = work.get_nowait()
                    except queue.Empty:
                        return
                    sending.delivery_send(delivery_id=delivery_id)
            finally:
                connection.close()

        threads += [threading.Thread(target=sender) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()

        # The other partner hears within seconds, while the hanging one still holds its two.
        (received,) = healthy.wait_for(1, within=5)
        assert received.json()["type"] == "referral.created"
        assert len(hanging.received) == 2
    finally:
        hanging.close()
        healthy.close()
        for thread in threads:
            thread.join(timeout=70)
    # The four left behind were not tried: the sweep or the loop brings them back later.
    pending = Delivery.objects.filter(endpoint__url=hanging.url, attempt_count=0)
    assert pending.count() == 4
