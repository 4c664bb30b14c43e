"""Directory writes: a service's listing and site, its capacity, and its counted slots.

Every write here keeps the search index in step (directory.index) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.errors import DomainError
from directory.index import location_index_rebuild, service_index_rebuild
from directory.models import Capacity, Location, OpeningException, OpeningSpan, Service
from directory.permissions import can_set_capacity

CAPACITY_MIN_MINUTES = 15
CAPACITY_MAX_MINUTES = 120 * 60
# No service counts more slots than this; it also keeps a typo inside the database integer.
CAPACITY_MAX_SLOTS = 10_000
SETTABLE_STATUSES = (Capacity.GREEN, Capacity.AMBER, Capacity.RED)


def capacity_set(
    *,
    service: Service,
    user,
    status: str,
    slots: int | None = None,
    expires_in_minutes: int | None = None,
) -> Service:
    """Set a service's capacity as a partner reports it, live for a while and then UNKNOWN.

    Refused (403) unless directory.permissions.can_set_capacity allows the user. The status
    expires after expires_in_minutes (15 min .. 120 h; default
    settings.CAPACITY_DEFAULT_TTL_MINUTES). Who and when are recorded on the service.
    """
    if not can_set_capacity(user, service):
        raise DomainError(
            "You may not set this service's capacity.", code="permission_denied", status_code=403
        )
    fields: dict[str, str] = {}
    if status not in SETTABLE_STATUSES:
        fields["status"] = f"Must be one of {', '.join(SETTABLE_STATUSES)}."
    if slots is not None and (
        isinstance(slots, bool)
        or not isinstance(slots, int)
        or not 0 <= slots <= CAPACITY_MAX_SLOTS
    ):
        fields["slots"] = f"Must be a whole number, 0 to {CAPACITY_MAX_SLOTS}, or left out."
    if expires_in_minutes is None:
        expires_in_minutes = settings.CAPACITY_DEFAULT_TTL_MINUTES
    if (
        isinstance(expires_in_minutes, bool)
        or not isinstance(expires_in_minutes, int)
        or not CAPACITY_MIN_MINUTES <= expires_in_minutes <= CAPACITY_MAX_MINUTES
    ):
        fields["expires_in_minutes"] = (
            f"Must be between {CAPACITY_MIN_MINUTES} and {CAPACITY_MAX_MINUTES} minutes."
        )
    if fields:
        raise DomainError("The capacity is not valid.", code="invalid", fields=fields)

    now = timezone.now()
    values = {
        "capacity_status": status,
        "capacity_slots": slots,
        "capacity_updated_at": now,
        "capacity_updated_by": user if getattr(user, "pk", None) else None,
        "capacity_expires_at": now + timedelta(minutes=expires_in_minutes),
    }
    # One UPDATE: concurrent setters cannot leave a mix of two reports; the last one wins.
    # The service's QuerySet.update re-indexes it in the same transaction.
    Service.objects.filter(pk=service.pk).update(**values)
    for name, value in values.items():
        setattr(service, name, value)
    return service


def service_slot_take(*, service_id: int) -> bool:
    """Take one of a service's counted slots for a referral; False if none is left.

    Call inside the referral's transaction. The search's copy of the slots follows in the
    same transaction (Service's QuerySet.update), so the search never offers a slot that
    was just taken.
    """
    # Conditional UPDATE: the database decides who gets the last slot, never a read.
    taken = Service.objects.filter(pk=service_id, capacity_slots__gt=0).update(
        capacity_slots=F("capacity_slots") - 1
    )
    return taken == 1


def service_slot_return(*, service_id: int) -> None:
    """Give a slot back (decline, cancel, expiry), unless the service stopped counting slots."""
    Service.objects.filter(pk=service_id, capacity_slots__isnull=False).update(
        capacity_slots=F("capacity_slots") + 1
    )


def service_save(
    *,
    service: Service,
    update_fields: Sequence[str] | None = None,
    categories: Iterable[int] | None = None,
    boroughs_covered: Iterable[str] | None = None,
    spans: Iterable[tuple[int, time, time]] | None = None,
    exceptions: Iterable[OpeningException] | None = None,
) -> Service:
    """Save a service and, when given, replace its categories, area, weekly spans and dated
    exceptions; its index rows are rewritten in the same transaction.

    The one writer for a service's listing (admin, imports). Capacity goes through
    capacity_set; a bare QuerySet.update on Service re-indexes too (see models.py).
    """
    with transaction.atomic():
        service.save(update_fields=update_fields)
        if categories is not None:
            service.categories.set(list(categories))
        if boroughs_covered is not None:
            service.boroughs_covered.set(list(boroughs_covered))
        if spans is not None:
            OpeningSpan.objects.filter(service_id=service.pk).delete()
            OpeningSpan.objects.bulk_create(
                OpeningSpan(service_id=service.pk, weekday=d, opens=o, closes=c)
                for d, o, c in spans
            )
        if exceptions is not None:
            OpeningException.objects.filter(service_id=service.pk).delete()
            wanted = list(exceptions)
            for exception in wanted:
                exception.service_id = service.pk
            OpeningException.objects.bulk_create(wanted)
        service_index_rebuild(service=service)
    return service


def location_save(*, location: Location, update_fields: Sequence[str] | None = None) -> Location:
    """Save a site; every service at it is re-indexed in the same transaction."""
    with transaction.atomic():
        location.save(update_fields=update_fields)
        location_index_rebuild(location_id=location.pk)
    return location
