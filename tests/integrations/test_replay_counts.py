"""A replayed delivery keeps counting: its attempt count is every attempt ever made."""

import pytest
from django.test import Client
from django.utils import timezone

from integrations import outbox, sending
from integrations.models import Delivery, DeliveryAttempt
from tests.integrations.conftest import make_endpoint
from tests.integrations.test_endpoints_api import make_delivery


@pytest.fixture
def failed_three_times(provider, receiver):
    delivery = make_delivery(
        make_endpoint(provider, url=receiver.url),
        status=Delivery.Status.FAILED,
        attempt_count=3,
        failed_at=timezone.now(),
        last_error="HTTP 500",
    )
    for _ in range(3):
        DeliveryAttempt.objects.create(delivery=delivery, at=timezone.now(), status_code=500)
    return delivery


def test_a_replay_from_the_admin_counts_on_from_the_earlier_attempts(operator, failed_three_times):
    client = Client()
    client.force_login(operator)
    client.post(
        "/admin/integrations/delivery/",
        {"action": "replay", "_selected_action": [failed_three_times.pk]},
    )

    sent = sending.delivery_send(delivery_id=failed_three_times.pk)

    assert sent.status == Delivery.Status.DELIVERED
    assert sent.attempt_count == sent.attempts.count() == 4


def test_a_replay_keeps_the_count_until_the_next_attempt(failed_three_times):
    replayed = outbox.delivery_replay(delivery_id=failed_three_times.pk)
    assert (replayed.status, replayed.attempt_count) == (Delivery.Status.PENDING, 3)
