"""Referral reads: lists and single referrals, always through the visibility rule."""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, QuerySet
from django.http import Http404

from config.errors import DomainError
from directory import permissions
from referrals.models import Referral, ReferralEvent, Status


class _MomentField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment within 2000-2100: a year near 1 or 9999 overflows in the query."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is not None and not 2000 <= moment.year <= 2100:
            raise ValidationError("Enter a date and time between the years 2000 and 2100.")
        return moment


class _MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = _MomentField


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    # Bounded to a bigint: an id past it (service=10^25) is a bad filter, not a 500.
    service = django_filters.NumberFilter(
        field_name="service_id", min_value=1, max_value=2**63 - 1, decimal_places=0
    )
    since = _MomentFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Referral
        fields = ["status", "service", "since"]


def _base() -> QuerySet:
    return Referral.objects.select_related(
        "service", "service__organisation", "referring_organisation", "category"
    )


def referral_list(*, user, filters: dict[str, Any] | None = None) -> QuerySet:
    """Referrals this user may see, newest first, narrowed by status, service and since.

    `filters` may be request.query_params (status may repeat); a bad value is a 400 that
    names the filter.
    """
    queryset = permissions.referrals_visible_to(user, _base())
    filterset = ReferralFilter(filters or {}, queryset=queryset)
    if not filterset.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        raise DomainError("A filter has a bad value.", code="invalid", fields=fields)
    return filterset.qs.order_by("-created_at", "id")


def referral_get(*, user, referral_id) -> Referral:
    """One referral this user may see; Http404 if it does not exist or is not theirs to see."""
    try:
        referral_id = uuid.UUID(str(referral_id))
    except ValueError as exc:
        raise Http404("No such referral.") from exc
    referral = permissions.referrals_visible_to(user, _base()).filter(pk=referral_id).first()
    if referral is None:
        raise Http404("No such referral.")
    return referral


def referral_events(*, referral: Referral) -> QuerySet:
    """The referral's events, oldest first (the caller has already checked visibility)."""
    return ReferralEvent.objects.filter(referral=referral).select_related(
        "actor", "actor_organisation"
    )


# --- versions, for pages that keep themselves current --------------------------------------
# A live page sends back the version it shows; an unchanged one is answered without
# rendering anything, so polling every second costs one small query per page.


def referral_version(*, referral: Referral) -> str:
    """Changes whenever the referral or its timeline does."""
    last = referral.events.aggregate(last=Max("id"))["last"]
    return f"{referral.status}.{referral.updated_at.timestamp():.6f}.{last}"


def referral_list_version(*, user) -> str:
    """Changes whenever a referral the user may see arrives or changes."""
    seen = permissions.referrals_visible_to(user, Referral.objects.all()).aggregate(
        count=Count("id"), last=Max("updated_at")
    )
    last = seen["last"].timestamp() if seen["last"] else 0
    return f"{seen['count']}.{last:.6f}"
