"""Capacity in the admin: checked on the form, written only through capacity_set.

The service list's capacity columns and the service form both report capacity; a refused
report rolls back the whole admin save and says why.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from config.errors import DomainError
from directory.models import Service
from directory.services import CAPACITY_MAX_SLOTS, SETTABLE_STATUSES, capacity_set

# Written only by capacity_set, never by a plain save of the admin form.
CAPACITY_FIELDS = {
    "capacity_status",
    "capacity_slots",
    "capacity_updated_at",
    "capacity_updated_by",
    "capacity_expires_at",
}
# What a user types to report capacity (the expiry only on the change form).
CAPACITY_INPUTS = {"capacity_status", "capacity_slots", "capacity_expires_in_minutes"}


def capacity_errors(form: forms.ModelForm) -> None:
    """The rules capacity_set applies, checked early so the admin shows them on the form."""
    if not CAPACITY_INPUTS & set(form.changed_data):
        return
    status = form.cleaned_data.get("capacity_status")
    if status not in SETTABLE_STATUSES:
        form.add_error("capacity_status", "Choose green, amber or red to report capacity.")
    slots = form.cleaned_data.get("capacity_slots")
    # The model field takes any positive number; capacity_set's bound is the one that holds,
    # and a refusal found only at save time would leave the admin's transaction broken.
    if slots is not None and slots > CAPACITY_MAX_SLOTS:
        form.add_error(
            "capacity_slots", f"Slots left must be a whole number, 0 to {CAPACITY_MAX_SLOTS}."
        )


class ServiceCapacityListForm(forms.ModelForm):
    """The capacity columns of the service list."""

    class Meta:
        model = Service
        fields = ["capacity_status", "capacity_slots"]

    def clean(self):
        cleaned = super().clean()
        capacity_errors(self)
        return cleaned


def capacity_save(
    modeladmin: admin.ModelAdmin,
    request,
    service: Service,
    form: forms.ModelForm,
    *,
    status: str,
    slots: int | None,
) -> None:
    """Report the capacity typed on an admin form; if capacity_set refuses, nothing is saved."""
    try:
        capacity_set(
            service=service,
            user=request.user,
            status=status,
            slots=slots,
            expires_in_minutes=form.cleaned_data.get("capacity_expires_in_minutes"),
        )
    except DomainError as exc:
        # The admin wraps the save in a transaction: refuse all of it.
        transaction.set_rollback(True)
        details = " ".join(f"{name}: {text}" for name, text in exc.fields.items())
        modeladmin.message_user(
            request, f"Nothing was saved. {exc.message} {details}", messages.ERROR
        )
