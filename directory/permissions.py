"""Who may see or change what: decided here, from organisation and role alone.

Every view, admin class, page and task asks this module; nothing else compares roles.
List endpoints filter with the *_visible_to functions so that a user never even learns
of rows outside their reach. The matrix is tested in tests/directory/test_permissions.py
and tests/referrals/test_permissions.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from rest_framework.permissions import BasePermission

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
    roles = service.referral_roles or [Role.CREW]
    return _role(user) in roles and _role(user) != Role.PLANNER


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
