"""Who may see or change what: decided here, from organisation and role alone.

Every view, admin class, page and task asks this module; nothing else compares roles.
List endpoints filter with the *_visible_to functions so that a user never even learns
of rows outside their reach. The matrix is tested in tests/directory/test_permissions.py
and tests/referrals/test_permissions.py.
"""

from __future__ import annotations

import binascii
from datetime import UTC, datetime
from hmac import compare_digest
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from config.compiled import rows_by
from directory.models import Role

if TYPE_CHECKING:
    from directory.models import Service, User


def _role(user) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return user.role


def is_operator(user) -> bool:
    return _role(user) == Role.OPERATOR or bool(getattr(user, "is_superuser", False))


# --- directory -----------------------------------------------------------------------


def can_search(user) -> bool:
    """Crews search; partners and operators may too (to check their own listings)."""
    return _role(user) in {Role.CREW, Role.PARTNER, Role.OPERATOR} or is_operator(user)


def can_set_capacity(user, service: Service) -> bool:
    if is_operator(user):
        return True
    return _role(user) == Role.PARTNER and service.organisation_id == user.organisation_id


def services_editable_by(user, queryset: QuerySet) -> QuerySet:
    """Services a user may edit in the admin: partners their organisation's, operators all."""
    if is_operator(user):
        return queryset
    if _role(user) == Role.PARTNER and user.organisation_id:
        return queryset.filter(organisation_id=user.organisation_id)
    return queryset.none()


def organisation_scoped(user, queryset: QuerySet, path: str = "organisation") -> QuerySet:
    """Rows hanging off an organisation (services, locations, hours...), scoped like services."""
    if is_operator(user):
        return queryset
    if _role(user) == Role.PARTNER and user.organisation_id:
        return queryset.filter(**{f"{path}_id": user.organisation_id})
    return queryset.none()


def can_use_admin(user) -> bool:
    return bool(getattr(user, "is_active", False)) and (
        is_operator(user) or _role(user) == Role.PARTNER
    )


# --- referrals -----------------------------------------------------------------------


def can_refer(user, service: Service) -> bool:
    from directory.eligibility import role_may_refer  # the referral-roles rule's one home

    return role_may_refer(service.referral_roles, _role(user))


def may_send_referrals(user) -> bool:
    """Whether a role could refer into any service at all: asked before the body is read,
    so a planner's try is a 403, not a validation error that reveals the body's rules."""
    return (
        _role(user) is not None
        and _role(user) != Role.PLANNER
        and bool(getattr(user, "organisation_id", None))
    )


def referrals_visible_to(user: User, queryset: QuerySet) -> QuerySet:
    """Crews: their organisation's referrals; partners: those into their services."""
    if is_operator(user):
        return queryset
    role = _role(user)
    if role == Role.CREW:
        return queryset.filter(referring_organisation_id=user.organisation_id)
    if role == Role.PARTNER:
        return queryset.filter(service__organisation_id=user.organisation_id)
    return queryset.none()


def can_list_referrals(user) -> bool:
    return is_operator(user) or _role(user) in {Role.CREW, Role.PARTNER}


def can_answer_referral(user, referral) -> bool:
    """Acknowledge, accept, decline, complete: staff of the receiving organisation."""
    if is_operator(user):
        return True
    return _role(user) == Role.PARTNER and referral.service.organisation_id == user.organisation_id


def can_cancel_referral(user, referral) -> bool:
    """Cancel: the referring crew's organisation."""
    if is_operator(user):
        return True
    return _role(user) == Role.CREW and referral.referring_organisation_id == user.organisation_id


def endpoints_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Partners and crews manage their own organisation's endpoints; operators all."""
    if is_operator(user):
        return queryset
    if _role(user) in {Role.PARTNER, Role.CREW} and user.organisation_id:
        return queryset.filter(organisation_id=user.organisation_id)
    return queryset.none()


def can_manage_endpoints(user) -> bool:
    return is_operator(user) or _role(user) in {Role.PARTNER, Role.CREW}


# --- reports -------------------------------------------------------------------------


def can_read_reports(user) -> bool:
    return is_operator(user) or _role(user) == Role.PLANNER


def reads_exact_small_counts(user) -> bool:
    """Operators see report counts under the small-cell threshold; planners see "<5"."""
    return is_operator(user)


# --- DRF glue ------------------------------------------------------------------------


class RolePermission(BasePermission):
    """DRF permission built from one of the predicates above: `RolePermission.of(can_search)`."""

    predicate = staticmethod(lambda user: False)
    message = "Your role may not do this."

    @classmethod
    def of(cls, predicate):
        return type(f"Allow_{predicate.__name__}", (cls,), {"predicate": staticmethod(predicate)})

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and self.predicate(request.user))


# --- token authentication (H9) ------------------------------------------------------------


_TOKEN_SENTINELS = {"prefix": "~t0k3n~", "now": datetime(2003, 4, 5, 6, 7, 8, 91011, tzinfo=UTC)}


def _token_rows(*, prefix: str, now: datetime) -> QuerySet:
    model = get_token_model()
    holders = model.objects.filter(token_key=prefix).values("user")
    return (
        model.objects.filter(user__in=holders)
        .filter(Q(token_key=prefix) | Q(expiry__lt=now))
        .select_related("user", "user__organisation")
    )


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token check in one query instead of two, with the caller's organisation.

    knox reads the tokens matching the key prefix, then each token's user's other tokens
    (to delete expired ones). Here one query reads the tokens with that prefix and their
    users' expired tokens, with the user and organisation joined; the checks, the
    clean-up of expired tokens and the signals are knox's, unchanged. The one token
    authenticator of every API route (REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES).
    """

    def authenticate_credentials(self, token: bytes):
        message = _("Invalid token.")
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            # Tokens are hex; anything else in the header is a wrong token, not a 500.
            raise exceptions.AuthenticationFailed(message) from None
        prefix = token[: CONSTANTS.TOKEN_KEY_LENGTH]
        # The tokens with this prefix, and the expired tokens of their users (the only other
        # tokens knox's clean-up acts on), with user and organisation joined; compiled once.
        rows = rows_by(
            "token_check", _token_rows, _TOKEN_SENTINELS, {"prefix": prefix, "now": timezone.now()}
        )
        deleted: set[str] = set()
        for auth_token in rows:
            if auth_token.token_key != prefix or auth_token.digest in deleted:
                continue
            if self._cleanup_among(auth_token, rows, deleted):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(message) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)

    def _cleanup_among(self, auth_token, rows: list, deleted: set[str]) -> bool:
        """knox's _cleanup_token, reading the user's other tokens from rows."""
        now = timezone.now()
        for other in rows:
            if other.user_id != auth_token.user_id or other.digest in deleted:
                continue
            if other.digest != auth_token.digest and other.expiry and other.expiry < now:
                other.delete()
                deleted.add(other.digest)
                token_expired.send(
                    sender=self.__class__,
                    username=other.user.get_username(),
                    source="other_token",
                )
        if auth_token.expiry is not None and auth_token.expiry < now:
            username = auth_token.user.get_username()
            auth_token.delete()
            deleted.add(auth_token.digest)
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


# --- pages (server-rendered crew and partner pages) -------------------------------------


def can_use_crew_pages(user) -> bool:
    """Search, refer and follow referrals in the browser: ambulance crews."""
    return _role(user) == Role.CREW and bool(getattr(user, "organisation_id", None))


def can_use_partner_pages(user) -> bool:
    """The inbox, answering referrals and setting capacity in the browser: partner staff."""
    return _role(user) == Role.PARTNER and bool(getattr(user, "organisation_id", None))


# --- directory listings (H1) -------------------------------------------------------------


def services_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Services a user may read through the API: active ones, plus a partner's own inactive
    ones; operators see all. Planners read the directory too (reports need it)."""
    if is_operator(user):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if _role(user) == Role.PARTNER and user.organisation_id:
        return queryset.filter(Q(active=True) | Q(organisation_id=user.organisation_id))
    return queryset.filter(active=True)


# --- admin (H2) --------------------------------------------------------------------------


def organisations_administered_by(user, queryset: QuerySet) -> QuerySet:
    """Organisations a user may choose in the admin: a partner only their own, operators all."""
    if is_operator(user):
        return queryset
    if _role(user) == Role.PARTNER and user.organisation_id:
        return queryset.filter(pk=user.organisation_id)
    return queryset.none()
