"""Signed webhooks to a real receiver on 127.0.0.1, and what each kind of answer leads to."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from integrations import sending
from integrations.models import Delivery, DeliveryAttempt
from tests.integrations.conftest import PATIENT_DETAILS, make_endpoint, make_referral
from tests.integrations.receiver import Answer, Receiver


def _send(delivery, now=None):
    return sending.delivery_send(delivery_id=delivery.pk, now=now)


@pytest.fixture
def endpoint(provider, receiver):
    return make_endpoint(provider, url=receiver.url)


@pytest.fixture
def delivery(crew, service, endpoint):
    make_referral(crew, service)
    return Delivery.objects.get(endpoint=endpoint)


def test_it_sends_an_event_the_receiver_can_verify(delivery, endpoint, receiver):
    sent = _send(delivery)
    assert sent.status == Delivery.Status.DELIVERED
    assert sent.delivered_at is not None
    (request,) = receiver.received
    assert request.headers["content-type"] == "application/json"
    verified = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert verified["type"] == "referral.created"
    assert verified["data"]["referral_id"] == delivery.payload["data"]["referral_id"]
    assert request.headers["webhook-id"] == delivery.message_id
    for detail in PATIENT_DETAILS:
        assert detail.encode() not in request.body


def test_it_records_every_attempt(delivery, receiver):
    _send(delivery)
    (attempt,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code == 200
    assert attempt.error == ""
    assert attempt.at is not None


def test_it_retries_a_503_and_delivers_later_with_the_same_webhook_id(provider, crew, service):
    receiver = Receiver(Answer(503))
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        delivery = Delivery.objects.get()
        now = timezone.now()

        first = _send(delivery, now=now)
        assert first.status == Delivery.Status.PENDING
        assert first.attempt_count == 1
        assert first.last_error == "HTTP 503"
        # The second step of the schedule: 5 s, give or take 10%.
        assert now + timedelta(seconds=4.5) <= first.next_attempt_at <= now + timedelta(seconds=5.5)
        assert _send(delivery, now=now) is None  # not due yet: nothing is sent

        second = _send(delivery, now=now + timedelta(seconds=6))
        assert second.status == Delivery.Status.DELIVERED
        assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.message_id] * 2
        codes = list(delivery.attempts.values_list("status_code", flat=True))
        assert codes == [503, 200]
    finally:
        receiver.close()


def test_it_disables_an_endpoint_that_answers_410(provider, crew, service):
    receiver = Receiver(Answer(410))
    try:
        endpoint = make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        sent = _send(Delivery.objects.get())
        assert sent.status == Delivery.Status.CANCELLED
        endpoint.refresh_from_db()
        assert endpoint.active is False
        assert "410" in endpoint.disabled_reason
        # Later events no longer go there.
        make_referral(crew, service)
        assert Delivery.objects.count() == 1
    finally:
        receiver.close()


def test_it_tells_operators_once_when_a_410_switches_an_endpoint_off(
    provider, crew, service, mailoutbox
):
    receiver = Receiver(Answer(410))
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        make_referral(crew, service)
        first, second = Delivery.objects.order_by("id")
        _send(first)
        assert _send(second).status == Delivery.Status.CANCELLED  # found switched off
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["oncall@frontdoor.test"]
        assert "410" in mailoutbox[0].subject
        assert "Alpha Community Health" in mailoutbox[0].body
        assert "Quibblesworth" not in mailoutbox[0].body
    finally:
        receiver.close()


@pytest.mark.parametrize("status", [429, 503])
def test_it_waits_as_long_as_a_busy_receiver_asks(provider, crew, service, status):
    receiver = Receiver(Answer(status, {"Retry-After": "120"}))
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        now = timezone.now()
        sent = _send(Delivery.objects.get(), now=now)
        assert sent.status == Delivery.Status.PENDING
        assert sent.next_attempt_at == now + timedelta(seconds=120)
    finally:
        receiver.close()


def test_it_counts_the_retry_after_wait_from_the_answer_not_from_the_send(provider, crew, service):
    receiver = Receiver(Answer(429, {"Retry-After": "2"}, delay=0.5))
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        sent = _send(Delivery.objects.get())
        attempt = sent.attempts.get()
        assert sent.next_attempt_at >= attempt.finished_at + timedelta(seconds=2)
        assert sent.next_attempt_at >= attempt.at + timedelta(seconds=2.5)
    finally:
        receiver.close()


def test_it_understands_retry_after_as_a_date_and_caps_it_at_a_day(provider, crew, service):
    receiver = Receiver(Answer(429, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}))
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        now = timezone.now()
        sent = _send(Delivery.objects.get(), now=now)
        assert sent.next_attempt_at == now + timedelta(hours=24)
    finally:
        receiver.close()


def test_it_gives_up_on_a_receiver_that_hangs_and_tries_again(provider, crew, service, settings):
    settings.OUTBOUND_TIMEOUT_SECONDS = 1
    receiver = Receiver(Answer(hang=True))
    try:
        make_endpoint(provider, url=receiver.url)
        make_referral(crew, service)
        sent = _send(Delivery.objects.get())
        assert sent.status == Delivery.Status.PENDING
        assert sent.attempt_count == 1
        attempt = sent.attempts.get()
        assert attempt.status_code is None
        assert "timeout" in attempt.error
        assert sent.next_attempt_at > attempt.at
    finally:
        receiver.close()


def test_it_does_not_follow_redirects(provider, crew, service):
    target = Receiver()
    redirecting = Receiver(Answer(302, {"Location": target.url}))
    try:
        make_endpoint(provider, url=redirecting.url)
        make_referral(crew, service)
        sent = _send(Delivery.objects.get())
        assert sent.status == Delivery.Status.PENDING
        assert "redirect not followed" in sent.last_error
        assert sent.attempts.get().status_code == 302
        assert target.received == []
    finally:
        target.close()
        redirecting.close()


def test_it_retries_when_nobody_listens(provider, crew, service):
    gone = Receiver()
    url = gone.url
    gone.close()
    make_endpoint(provider, url=url)
    make_referral(crew, service)
    sent = _send(Delivery.objects.get())
    assert sent.status == Delivery.Status.PENDING
    assert "connection error" in sent.last_error


def test_it_cancels_a_delivery_whose_endpoint_was_disabled_before_sending(
    delivery, endpoint, receiver
):
    endpoint.active = False
    endpoint.save()
    sent = _send(delivery)
    assert sent.status == Delivery.Status.CANCELLED
    assert receiver.received == []


def test_it_does_not_send_a_delivered_one_again(delivery, receiver):
    _send(delivery)
    assert _send(delivery, now=timezone.now() + timedelta(days=1)) is None
    assert len(receiver.received) == 1
