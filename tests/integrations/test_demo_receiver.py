"""The demo's webhook receiver: checks each message's signature, logs no patient details."""

import io
import threading
import time

import pytest

from integrations import sending
from integrations.demo import demo_endpoints_seed, signature_valid
from integrations.management.commands.demo_receiver import receiver_secrets, receiver_server
from integrations.models import Delivery, Endpoint
from integrations.transports import sign
from tests.integrations.conftest import PATIENT_DETAILS, make_endpoint, make_referral


class Log(io.StringIO):
    """The receiver's output, written from its request threads."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            return super().write(text)


@pytest.fixture
def running():
    """A receiver on a free port of 127.0.0.1; its secrets are set by the test."""
    log, secrets = Log(), []
    server = receiver_server(host="127.0.0.1", port=0, secrets=lambda: secrets, out=log)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, secrets, log
    server.shutdown()
    server.server_close()


def test_it_accepts_a_signed_referral_event_and_logs_no_patient_details(
    running, provider, crew, service
):
    server, secrets, log = running
    endpoint = make_endpoint(provider, url=f"http://127.0.0.1:{server.server_port}/hook")
    secrets.append(endpoint.secret)
    referral = make_referral(crew, service)

    sent = sending.delivery_send(delivery_id=Delivery.objects.get().pk)

    assert sent.status == Delivery.Status.DELIVERED
    assert sent.attempts.get().status_code == 204
    line = log.getvalue()
    assert "signature checked" in line
    assert f"referral.created for referral {referral.pk} (status sent)" in line
    for detail in PATIENT_DETAILS:
        assert detail not in line


def test_it_refuses_a_message_signed_with_another_secret(running, provider, crew, service):
    server, secrets, log = running
    make_endpoint(provider, url=f"http://127.0.0.1:{server.server_port}/hook")
    secrets.append(Endpoint(kind="webhook").secret)  # some other endpoint's secret
    make_referral(crew, service)

    sent = sending.delivery_send(delivery_id=Delivery.objects.get().pk)

    assert sent.status == Delivery.Status.PENDING
    assert sent.attempts.get().status_code == 401
    assert "refused (bad or missing signature)" in log.getvalue()


def test_it_refuses_an_old_message_replayed_with_its_valid_signature():
    secret = Endpoint(kind="webhook").secret
    body = b'{"type":"referral.created"}'
    sent_at = int(time.time()) - 3600
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(sent_at),
        "webhook-signature": sign(secret=secret, message_id="msg_1", timestamp=sent_at, body=body),
    }
    assert signature_valid(secrets=[secret], headers=headers, body=body, now=sent_at + 10)
    assert not signature_valid(secrets=[secret], headers=headers, body=body)


def test_it_knows_the_secrets_of_the_endpoints_pointing_at_it(provider):
    here = make_endpoint(provider, url="http://127.0.0.1:8124/frontdoor/webhook")
    make_endpoint(provider, url="http://127.0.0.1:81240/elsewhere")
    make_endpoint(provider, kind=Endpoint.Kind.EMAIL)
    assert receiver_secrets(8124) == [here.secret]


def test_it_seeds_the_demo_endpoints_once(provider, settings):
    settings.DEMO_RECEIVER_PORT = 8124
    assert demo_endpoints_seed(organisation=provider) == 2
    assert demo_endpoints_seed(organisation=provider) == 0
    webhook = Endpoint.objects.get(kind=Endpoint.Kind.WEBHOOK)
    assert webhook.url == "http://127.0.0.1:8124/frontdoor/webhook"


def test_it_seeds_no_loopback_webhook_where_private_addresses_are_refused(provider, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    demo_endpoints_seed(organisation=provider)
    assert list(Endpoint.objects.values_list("kind", flat=True)) == ["email"]
