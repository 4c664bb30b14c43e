"""Referral admin for operators: read-only, and every opened referral is recorded."""

from __future__ import annotations

from django.contrib import admin

from directory.permissions import is_operator
from referrals import services
from referrals.models import PatientAccess, Referral, ReferralEvent


class _OperatorReadOnly(admin.ModelAdmin):
    """Operators may look; nobody changes a referral, an event or an audit row here."""

    def has_module_permission(self, request) -> bool:
        return is_operator(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_operator(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    extra = 0
    can_delete = False
    fields = [
        "created_at",
        "from_status",
        "to_status",
        "actor",
        "actor_organisation",
        "reason_code",
        "note",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(_OperatorReadOnly):
    # The list carries no patient identifiers: only opening one shows them (and is audited).
    list_display = ["id", "status", "service", "referring_organisation", "urgency", "created_at"]
    list_filter = ["status", "urgency"]
    list_select_related = ["service", "referring_organisation"]
    search_fields = ["=id", "incident_reference"]
    date_hierarchy = "created_at"
    inlines = [ReferralEventInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # Recorded only when the page was actually shown to this operator.
        if response.status_code == 200:
            referral = self.get_object(request, object_id)
            if referral is not None:
                services.patient_access_record(
                    user=request.user,
                    referral=referral,
                    channel=PatientAccess.Channel.ADMIN,
                    request=request,
                )
        return response


@admin.register(ReferralEvent)
class ReferralEventAdmin(_OperatorReadOnly):
    list_display = ["created_at", "referral_id", "from_status", "to_status", "reason_code"]
    list_filter = ["to_status"]
    search_fields = ["=referral__id"]
    exclude = ["note"]  # free text may name the patient; it is shown on the audited referral


@admin.register(PatientAccess)
class PatientAccessAdmin(_OperatorReadOnly):
    list_display = [
        "at",
        "username",
        "organisation_name",
        "referral_ref",
        "channel",
        "resource",
        "outcome",
        "ip_address",
    ]
    list_filter = ["outcome", "channel", "resource"]
    search_fields = ["=referral_ref", "username"]
