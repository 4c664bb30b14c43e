"""The one outbound HTTP seam refuses internal targets unless the setting allows them."""

import pytest

from integrations import http, sending
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",
        "http://localhost:9/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hooks",
        "http://0.0.0.0:9/hooks",
    ],
)
def test_it_refuses_internal_addresses_when_not_allowed(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    result = http.post(url, body=b"{}", headers={})
    assert result.status is None
    assert result.error.startswith("refused: private or reserved address")


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "file:///etc/passwd", "http://user:pw@example.org/"]
)
def test_it_refuses_other_schemes_and_credentials(url):
    result = http.post(url, body=b"{}", headers={})
    assert result.status is None
    assert result.error.startswith("refused:")


def test_it_reaches_a_local_receiver_when_allowed(receiver):
    result = http.post(receiver.url, body=b'{"a":1}', headers={"Content-Type": "application/json"})
    assert result.status == 200
    assert receiver.received[0].body == b'{"a":1}'


def test_a_refused_target_is_a_failed_attempt_that_is_retried(
    settings, provider, crew, service, receiver
):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    sent = sending.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert sent.status == Delivery.Status.PENDING
    assert sent.attempts.get().error.startswith("refused:")
    assert receiver.received == []
