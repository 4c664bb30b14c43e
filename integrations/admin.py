"""Admin for endpoints and deliveries.

Operators see and manage everything and replay failed deliveries; partners see their own
organisation's endpoints and deliveries, read-only. Access comes from directory.permissions.
Deliveries and attempts are never edited here: they are the record of what was sent.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from config.errors import DomainError
from directory import permissions
from integrations import endpoints, selectors, services
from integrations.models import Delivery, DeliveryAttempt, Endpoint


def _domain_to_validation_error(exc: DomainError) -> ValidationError:
    if exc.fields:
        return ValidationError(
            {
                name: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
                for name, msgs in exc.fields.items()
            }
        )
    return ValidationError(exc.message)


class _ReadOnlyForPartners:
    """Operators may change; partners may only look at their own organisation's rows."""

    visible_path = "organisation"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return permissions.organisation_scoped(request.user, queryset, self.visible_path)

    def has_module_permission(self, request) -> bool:
        return permissions.can_use_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)


class EndpointForm(forms.ModelForm):
    # A plain field: endpoint_target_clean decides what a URL may be, with no scheme guessed.
    url = forms.CharField(max_length=500, required=False)

    class Meta:
        model = Endpoint
        fields = ["organisation", "kind", "url", "email", "description", "active"]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or (self.instance.kind if self.instance.pk else None)
        if kind:
            try:
                cleaned["url"], cleaned["email"] = endpoints.endpoint_target_clean(
                    kind=kind, url=cleaned.get("url", ""), email=cleaned.get("email", "")
                )
            except DomainError as exc:
                raise _domain_to_validation_error(exc) from None
        return cleaned


@admin.register(Endpoint)
class EndpointAdmin(_ReadOnlyForPartners, admin.ModelAdmin):
    form = EndpointForm
    list_display = ["__str__", "organisation", "kind", "active", "disabled_reason", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["url", "email", "description", "organisation__name"]
    list_select_related = ["organisation"]
    readonly_fields = ["disabled_reason", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["organisation", "kind"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            endpoints.endpoint_update(
                endpoint=obj,
                url=data["url"],
                email=data["email"],
                description=data["description"],
                active=data["active"],
            )
            return
        created = endpoints.endpoint_create(
            user=request.user,
            kind=data["kind"],
            url=data["url"],
            email=data["email"],
            description=data["description"],
            organisation=data["organisation"],
        )
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        if created.kind != Endpoint.Kind.EMAIL:
            # Shown once, as in the API; the admin never displays it again.
            messages.warning(
                request,
                f"Signing secret (shown only now, give it to the receiver): {created.secret}",
            )


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["at", "finished_at", "duration_ms", "status_code", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user)


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnlyForPartners, admin.ModelAdmin):
    visible_path = "endpoint__organisation"
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "next_attempt_at",
        "created_at",
        "last_error",
    ]
    # "Failed" under status is the operators' list of failed deliveries.
    list_filter = ["status", "event_type", "endpoint__kind"]
    search_fields = ["message_id", "endpoint__url", "endpoint__email"]
    list_select_related = ["endpoint"]
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]
    readonly_fields = [
        "endpoint",
        "event",
        "event_type",
        "message_id",
        "payload",
        "status",
        "attempt_count",
        "next_attempt_at",
        "locked_until",
        "retry_until",
        "last_error",
        "created_at",
        "delivered_at",
        "failed_at",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of what was sent stays

    def changelist_view(self, request, extra_context=None):
        # The one place operators look at deliveries: say so when nothing is sending them.
        if permissions.is_operator(request.user):
            health = selectors.delivery_health()
            if not health.ok:
                messages.warning(request, health.problem())
        return super().changelist_view(request, extra_context)

    def has_replay_permission(self, request) -> bool:
        return permissions.is_operator(request.user)

    @admin.action(description="Replay the selected deliveries", permissions=["replay"])
    def replay(self, request, queryset) -> None:
        replayed, refused = 0, []
        for delivery_id in queryset.values_list("pk", flat=True):
            try:
                services.delivery_replay(delivery_id=delivery_id)
            except DomainError as exc:
                refused.append(f"#{delivery_id}: {exc.message}")
            else:
                replayed += 1
        if replayed:
            messages.success(request, f"{replayed} delivery(ies) queued to be sent again.")
        if refused:
            messages.warning(request, "Not replayed: " + "; ".join(refused))
