"""API tokens (knox): create within the per-user cap, revoke one, revoke all."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from knox.models import AuthToken
from knox.settings import knox_settings


def token_create(*, user) -> tuple[AuthToken, str]:
    """A new device token; past TOKEN_LIMIT_PER_USER live tokens, the oldest are revoked.

    Evicting the oldest keeps logging in possible (a lost phone never blocks a new one)
    while bounding how many tokens one stolen password can mint.
    """
    with transaction.atomic():
        # One new token at a time per user, so two logins cannot both count under the cap.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        keep = settings.TOKEN_LIMIT_PER_USER - 1
        live = AuthToken.objects.filter(user=user).order_by("-created", "-pk")
        stale = list(live.values_list("pk", flat=True)[keep:]) if keep >= 0 else []
        if stale:
            AuthToken.objects.filter(pk__in=stale).delete()
        return AuthToken.objects.create(user, knox_settings.TOKEN_TTL)


def tokens_revoke_all(*, user) -> int:
    """Revoke every API token of this user (every device); how many there were."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
