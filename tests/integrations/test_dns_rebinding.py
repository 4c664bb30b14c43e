"""Outbound address checks hold at connect time: one lookup, and the connection goes to the
address that lookup returned and the check passed (integrations/http.py).

A rebinding resolver answers a public address first and loopback afterwards; the sender must
never reach loopback, however many times it would have asked.
"""

import socket

import pytest

from integrations import http

PUBLIC = "93.184.216.34"
LOOPBACK = "127.0.0.1"


class RebindingResolver:
    """getaddrinfo that answers `first`, then `later` to every further question."""

    def __init__(self, first: str, later: str) -> None:
        self.answers = [first, later]
        self.asked = 0

    def __call__(self, host, port, *args, **kwargs):
        address = self.answers[min(self.asked, 1)]
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def network(monkeypatch, settings):
    """The resolver and the connections the sender opens (each refused, after noting it)."""
    settings.OUTBOUND_ALLOW_PRIVATE = False
    connects: list[str] = []

    def create_connection(address, *args, **kwargs):
        connects.append(address[0])
        raise ConnectionRefusedError("test network: nothing listens")

    monkeypatch.setattr(socket, "create_connection", create_connection)

    def install(first: str, later: str) -> RebindingResolver:
        resolver = RebindingResolver(first, later)
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        return resolver

    return install, connects


@pytest.mark.parametrize("send", [http.post, http.get], ids=["post", "get"])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_it_connects_to_the_address_it_checked_not_a_second_answer(network, send, scheme):
    install, connects = network
    resolver = install(first=PUBLIC, later=LOOPBACK)
    url = f"{scheme}://rebind.example/hook"

    result = send(url, body=b"{}", headers={}) if send is http.post else send(url)

    assert resolver.asked == 1
    assert connects == [PUBLIC]
    assert result.error.startswith("connection error")


def test_it_refuses_loopback_on_the_check_without_connecting(network):
    install, connects = network
    install(first=LOOPBACK, later=PUBLIC)

    result = http.post("https://rebind.example/hook", body=b"{}", headers={})

    assert result.error.startswith("refused: private or reserved address")
    assert connects == []
