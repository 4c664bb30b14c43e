"""Who is asking: the client's address and user agent, as recorded by audit and lockout."""

from __future__ import annotations

from django.http import HttpRequest

USER_AGENT_MAX = 300


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR: the peer of this process. Behind a proxy that is the proxy's address.

    X-Forwarded-For is not read: a client can write anything into it, and a lockout or an
    audit keyed on a header the attacker chooses protects nothing.
    """
    return getattr(request, "META", {}).get("REMOTE_ADDR") or None


def client_user_agent(request: HttpRequest) -> str:
    return (getattr(request, "META", {}).get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX]
