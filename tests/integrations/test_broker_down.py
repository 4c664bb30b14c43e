"""A broker outage never slows a crew's referral down: the outbox keeps the delivery.

No broker process is needed: the broker URL points at a port nobody listens on, or at a
listener that hangs up on every connection (a broker dying or restarting).
"""

import socket
import threading
import uuid

import pytest

from config.celery import app
from integrations import queueing, sending
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint
from tests.referrals.factories import referral_body


class HangingUpBroker:
    """Accepts TCP connections on 127.0.0.1 and closes each at once, counting them."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _dead_port_url() -> str:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # closed again: nothing listens there now


@pytest.fixture(autouse=True)
def _broker_not_yet_known_down(monkeypatch):
    monkeypatch.setattr(queueing, "_broker_quiet_until", 0.0, raising=False)
    yield
    if hasattr(queueing, "_publisher_drop"):
        queueing._publisher_drop()  # no connection to this test's broker kept for the next


@pytest.fixture
def broker_at(settings):
    """Point the web process at a broker, as CELERY_BROKER_URL does for a real one."""
    previous = app.conf.broker_url

    def point(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        app.conf.broker_url = url
        app.close()  # no pooled connection to an earlier test's broker

    yield point
    app.conf.broker_url = previous
    app.close()


def _create(api_as, crew, service):
    return api_as(crew).post(
        "/api/v1/referrals/",
        referral_body(service),
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


def test_a_create_answers_and_keeps_its_delivery_when_the_broker_is_down(
    api_as, crew, service, provider, broker_at, django_capture_on_commit_callbacks
):
    broker_at(_dead_port_url())
    make_endpoint(provider)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _create(api_as, crew, service)

    assert response.status_code == 201
    assert len(callbacks) == 1  # the enqueue was tried, after commit, and failed
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempt_count == 0
    assert sending.deliveries_due() == [delivery.pk]  # the sweep will find it


def test_a_create_tries_a_failing_broker_once_and_then_leaves_it_to_the_sweep(
    api_as, crew, service, provider, broker_at, django_capture_on_commit_callbacks
):
    broker = HangingUpBroker()
    try:
        broker_at(broker.url)
        make_endpoint(provider)
        with django_capture_on_commit_callbacks(execute=True):
            first = _create(api_as, crew, service)
        # One try, no reconnect loop (kombu's default retries for seconds inside the request).
        assert broker.connections == 1

        with django_capture_on_commit_callbacks(execute=True):
            second = _create(api_as, crew, service)
        # Known down: the next create does not touch the broker at all.
        assert broker.connections == 1

        assert first.status_code == second.status_code == 201
        assert Delivery.objects.filter(status="pending").count() == 2
    finally:
        broker.close()
