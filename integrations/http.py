"""The one module that sends outbound HTTP.

Every request: a timeout (settings.OUTBOUND_TIMEOUT_SECONDS), no redirects followed (a 3xx
is an answer, and callers treat it as a failure), only http(s), and the host is resolved
here and refused when any of its addresses is loopback, private, link-local, reserved or
multicast, unless settings.OUTBOUND_ALLOW_PRIVATE is on. The connection goes to the
address we checked, not to a second lookup, so a DNS answer cannot change in between.
Failures come back as a result with `error` set, never as an exception.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

BODY_EXCERPT_BYTES = 2000
USER_AGENT = "frontdoor-deliveries/1"


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    duration_ms: int = 0
    error: str = ""


class OutboundRefused(Exception):
    """The target may not be called (scheme, host or address)."""


# IPv6 ranges whose last 32 bits are an IPv4 address a gateway will connect to: NAT64's
# well-known and local-use prefixes. Python 3.11 counts them as global.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    packed = ip.packed
    # IPv4-compatible ::a.b.c.d (deprecated, still routed to a.b.c.d by some stacks).
    if packed[:12] == bytes(12) or any(ip in network for network in _NAT64):
        return ipaddress.IPv4Address(packed[12:])
    return None


def _global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


def address_allowed(address: str) -> bool:
    """Whether an IP address may be a target: global, and so is any IPv4 address it embeds."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not _global(embedded):
            return False
    return _global(ip)


def literal_address_problem(url: str) -> str | None:
    """Why this URL's host, written as an IP literal (or localhost), can never be a target
    in production, or None. Names are checked when resolved, at send time."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback host refused"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if not address_allowed(host):
        return f"private or reserved address refused: {host}"
    return None


def url_problem(url: str) -> str | None:
    """Why this URL can never be a target (scheme, host), or None. Does not resolve the host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in {"http", "https"}:
        return "only http and https URLs are allowed"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not allowed"
    return None


def resolve_target(url: str) -> tuple[str, int, str]:
    """(host, port, address to connect to) for url, or OutboundRefused saying why not."""
    problem = url_problem(url)
    if problem:
        raise OutboundRefused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"cannot resolve host: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise OutboundRefused("host has no address")
    if not settings.OUTBOUND_ALLOW_PRIVATE:
        # Refuse if ANY address is internal: a host mixing public and private answers is a trap.
        for address in addresses:
            if not address_allowed(address):
                raise OutboundRefused(f"private or reserved address refused: {address}")
    return host, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI are checked against the host name, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> HttpResult:
    """POST body to url; the answer (or why there is none) as an HttpResult. Only an excerpt
    of the answer's body is kept."""
    sent = {"Content-Length": str(len(body)), **headers}
    return _request("POST", url, body=body, headers=sent, max_bytes=BODY_EXCERPT_BYTES)


def get(url: str, *, max_bytes: int = 50 * 1024 * 1024) -> HttpResult:
    """GET url (same checks as post: resolved, pinned, timed out, no redirects followed).

    The whole body is read, up to max_bytes; a longer one is an error, not a truncation.
    """
    return _request(
        "GET",
        url,
        body=None,
        headers={"Accept": "application/json"},
        max_bytes=max_bytes,
        whole=True,
    )


def _request(
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: dict[str, str],
    max_bytes: int,
    whole: bool = False,
) -> HttpResult:
    """The one way out: resolve and check the target, connect to the address checked, time
    out, follow no redirects, and return every failure as a value. With whole, an answer
    longer than max_bytes is an error; without, it is cut to max_bytes."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        host, port, address = resolve_target(url)
    except OutboundRefused as exc:
        return HttpResult(status=None, duration_ms=elapsed(), error=f"refused: {exc}")

    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = float(settings.OUTBOUND_TIMEOUT_SECONDS)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        answer = response.read(max_bytes + 1 if whole else max_bytes)
        if whole and len(answer) > max_bytes:
            return HttpResult(status=None, duration_ms=elapsed(), error="answer too large")
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return HttpResult(
            status=response.status,
            headers=answer_headers,
            body=answer.decode("utf-8", errors="replace"),
            duration_ms=elapsed(),
        )
    except TimeoutError:
        return HttpResult(status=None, duration_ms=elapsed(), error=f"timeout after {timeout:g} s")
    except ssl.SSLError as exc:
        return HttpResult(status=None, duration_ms=elapsed(), error=f"TLS error: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        error = f"connection error: {exc or type(exc).__name__}"
        return HttpResult(status=None, duration_ms=elapsed(), error=error[:500])
    finally:
        connection.close()
