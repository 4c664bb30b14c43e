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


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
            if not _address_allowed(address):
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
    """POST body to url; the answer (or why there is none) as an HttpResult."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        host, port, address = resolve_target(url)
    except OutboundRefused as exc:
        return HttpResult(status=None, duration_ms=elapsed(), error=f"refused: {exc}")

    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    timeout = float(settings.OUTBOUND_TIMEOUT_SECONDS)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=timeout)
    sent_headers = {"User-Agent": USER_AGENT, "Content-Length": str(len(body)), **headers}
    try:
        connection.request("POST", path, body=body, headers=sent_headers)
        response = connection.getresponse()
        excerpt = response.read(BODY_EXCERPT_BYTES).decode("utf-8", errors="replace")
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return HttpResult(
            status=response.status, headers=answer_headers, body=excerpt, duration_ms=elapsed()
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


def get(url: str, *, max_bytes: int = 50 * 1024 * 1024) -> HttpResult:
    """GET url (same checks as post: resolved, pinned, timed out, no redirects followed).

    The whole body is read, up to max_bytes; a longer one is an error, not a truncation.
    """
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
        connection.request(
            "GET", path, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
        )
        response = connection.getresponse()
        body = response.read(max_bytes + 1)
        if len(body) > max_bytes:
            return HttpResult(status=None, duration_ms=elapsed(), error="answer too large")
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return HttpResult(
            status=response.status,
            headers=answer_headers,
            body=body.decode("utf-8", errors="replace"),
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
