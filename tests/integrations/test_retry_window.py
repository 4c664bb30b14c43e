"""A delivery is retried for 24 hours, however often a busy receiver asks for a short wait."""

from datetime import timedelta

from django.utils import timezone

from integrations import sending
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral
from tests.integrations.receiver import Answer, Receiver


def test_short_retry_after_waits_do_not_use_up_the_retries(provider, crew, service):
    # A partner that is busy for a few minutes and says so each time, then answers.
    busy = [Answer(503, {"Retry-After": "10"})] * 30
    receiver = Receiver(*busy)
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        delivery = Delivery.objects.get()
        now = timezone.now()
        for _ in range(30):
            sent = sending.delivery_send(delivery_id=delivery.pk, now=now)
            assert sent.status == Delivery.Status.PENDING
            assert sent.next_attempt_at == now + timedelta(seconds=10)
            now = sent.next_attempt_at

        delivered = sending.delivery_send(delivery_id=delivery.pk, now=now)
        assert delivered.status == Delivery.Status.DELIVERED
        assert delivered.attempts.count() == 31
    finally:
        receiver.close()


def test_it_stops_at_the_end_of_the_window_whatever_the_receiver_asks(provider, crew, service):
    receiver = Receiver(*[Answer(429, {"Retry-After": str(7 * 3600)})] * 10)
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        delivery = Delivery.objects.get()
        start = now = timezone.now()
        while (sent := sending.delivery_send(delivery_id=delivery.pk, now=now)).status == "pending":
            assert sent.next_attempt_at <= start + timedelta(hours=24)
            now = sent.next_attempt_at
        assert sent.status == Delivery.Status.FAILED
        assert sent.failed_at == start + timedelta(hours=24)
        assert sent.attempts.count() == 5  # 0, 7 h, 14 h, 21 h, then the window's end
    finally:
        receiver.close()
