"""After the whole retry schedule a delivery fails, operators hear of it, and it can be replayed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.errors import Conflict
from directory.models import Role
from integrations import outbox, sending
from integrations.models import Delivery
from tests.factories import UserFactory
from tests.integrations.conftest import PATIENT_DETAILS, make_endpoint, make_referral
from tests.integrations.receiver import Answer, Receiver


def _send_until_it_stops(delivery_id, now):
    """Send at every due time, moving the clock forward; returns the times attempts ran at."""
    times = []
    while True:
        delivery = Delivery.objects.get(pk=delivery_id)
        if delivery.status != Delivery.Status.PENDING:
            return times, delivery
        now = max(now, delivery.next_attempt_at)
        times.append(now)
        sending.delivery_send(delivery_id=delivery_id, now=now)


@pytest.fixture
def failing(provider, crew, service):
    receiver = Receiver(*[Answer(500)] * 20)
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    yield receiver, Delivery.objects.get()
    receiver.close()


def test_it_retries_on_the_schedule_for_a_day_then_fails(failing, operator):
    receiver, delivery = failing
    start = timezone.now()
    times, final = _send_until_it_stops(delivery.pk, start)

    offsets = sending.retry_offsets()
    assert len(times) == len(offsets)
    assert final.status == Delivery.Status.FAILED
    assert final.failed_at == times[-1]
    # The last attempt is at the end of the 24 h window; each before it within 10% of its
    # point of the schedule: 0, 5 s, 35 s, 2 min 35 s, ... 19 h 42 min 35 s.
    assert times[-1] - times[0] == timedelta(hours=24)
    for at, offset in zip(times[:-1], offsets[:-1], strict=True):
        assert offset * 0.9 <= at - times[0] <= offset * 1.1
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.message_id}
    assert final.attempts.count() == len(offsets) == final.attempt_count


def test_its_early_retries_come_within_seconds_and_minutes():
    first = sending.retry_offsets()[:5]
    assert first == [
        timedelta(0),
        timedelta(seconds=5),
        timedelta(seconds=35),
        timedelta(minutes=2, seconds=35),
        timedelta(minutes=12, seconds=35),
    ]


def test_it_emails_operators_when_a_delivery_fails(failing):
    UserFactory(username="frank-operator", role=Role.OPERATOR, email="frank@frontdoor.test")
    UserFactory(username="no-mail-operator", role=Role.OPERATOR, email="")
    UserFactory(username="a-partner", role=Role.PARTNER, email="partner@alpha.test")
    _, delivery = failing
    _send_until_it_stops(delivery.pk, timezone.now())

    (message,) = mail.outbox
    assert sorted(message.to) == ["frank@frontdoor.test", "oncall@frontdoor.test"]
    assert f"delivery {delivery.pk} failed" in message.subject
    assert "HTTP 500" in message.body
    for detail in PATIENT_DETAILS:
        assert detail not in message.body


def test_replay_puts_a_failed_delivery_back_with_its_message_id(failing):
    receiver, delivery = failing
    _send_until_it_stops(delivery.pk, timezone.now())
    receiver.answers.clear()  # the receiver is fixed

    replayed = outbox.delivery_replay(delivery_id=delivery.pk)
    assert replayed.status == Delivery.Status.PENDING
    assert replayed.failed_at is None
    assert replayed.next_attempt_at <= timezone.now()

    sent = sending.delivery_send(delivery_id=delivery.pk)
    assert sent.status == Delivery.Status.DELIVERED
    assert receiver.received[-1].headers["webhook-id"] == delivery.message_id
    assert sent.attempts.count() == len(sending.retry_offsets()) + 1


def test_a_replayed_delivery_gets_a_new_day_of_retries(failing):
    _, delivery = failing
    times, _ = _send_until_it_stops(delivery.pk, timezone.now())
    outbox.delivery_replay(delivery_id=delivery.pk)

    later = times[-1] + timedelta(days=2)
    again = sending.delivery_send(delivery_id=delivery.pk, now=later)
    assert again.status == Delivery.Status.PENDING
    assert later + timedelta(seconds=4.5) <= again.next_attempt_at <= later + timedelta(seconds=5.5)
    assert again.retry_until == later + timedelta(hours=24)


def test_replay_refuses_a_delivery_that_is_still_pending(failing):
    _, delivery = failing
    with pytest.raises(Conflict) as refused:
        outbox.delivery_replay(delivery_id=delivery.pk)
    assert refused.value.code == "not_replayable"


def test_a_time_scale_compresses_the_whole_schedule_and_its_window(settings):
    normal = sending.retry_offsets()
    settings.DELIVERY_TIME_SCALE = 2880
    assert sending.retry_window() == timedelta(seconds=30)
    assert sending.retry_offsets() == [offset / 2880 for offset in normal]
