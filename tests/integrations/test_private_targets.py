"""Internal targets are refused at registration in production, and IPv6 forms that carry an
internal IPv4 address are refused at registration and at send."""

import pytest

from integrations import http
from integrations.models import Endpoint

EMBEDDING_LOOPBACK = ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[::ffff:7f00:1]"]
PRIVATE_LITERALS = ["127.0.0.1", "169.254.169.254", "10.0.0.1", "[::1]", "localhost"]


@pytest.mark.parametrize("host", EMBEDDING_LOOPBACK + ["[64:ff9b::a00:1]", "[2002:a9fe:a9fe::]"])
def test_it_refuses_ipv6_forms_embedding_an_internal_ipv4_address_at_send(settings, host):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    result = http.post(f"http://{host}:9/hooks", body=b"{}", headers={})
    assert result.status is None
    assert result.error.startswith("refused: private or reserved address")


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "64:ff9b::808:808", "8.8.8.8"])
def test_it_still_allows_global_addresses(address):
    assert http.address_allowed(address)


@pytest.mark.parametrize("host", PRIVATE_LITERALS + EMBEDDING_LOOPBACK)
def test_it_refuses_an_internal_literal_at_registration(api_as, partner, settings, host):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    answer = api_as(partner).post(
        "/api/v1/endpoints/", {"kind": "webhook", "url": f"https://{host}/hook"}, format="json"
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert "url" in error["fields"]
    assert "refused" in error["fields"]["url"][0]
    assert Endpoint.objects.count() == 0


def test_it_refuses_an_internal_literal_when_the_url_is_changed(api_as, partner, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    created = api_as(partner).post(
        "/api/v1/endpoints/",
        {"kind": "webhook", "url": "https://hooks.alpha.example/in"},
        format="json",
    )
    assert created.status_code == 201
    answer = api_as(partner).patch(
        f"/api/v1/endpoints/{created.json()['id']}/",
        {"url": "https://169.254.169.254/latest/meta-data/"},
        format="json",
    )
    assert answer.status_code == 400
    assert Endpoint.objects.get().url == "https://hooks.alpha.example/in"


def test_it_takes_a_public_name_at_registration(api_as, partner, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    answer = api_as(partner).post(
        "/api/v1/endpoints/",
        {"kind": "webhook", "url": "https://hooks.alpha.example/in"},
        format="json",
    )
    assert answer.status_code == 201
