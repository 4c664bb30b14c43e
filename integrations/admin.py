"""Admin for endpoints and deliveries.

Operators see and manage everything and replay failed deliveries; partners add, test and
switch off their own organisation's endpoints and see their deliveries, read-only. Access
comes from directory.permissions.
Deliveries and attempts are never edited here: they are the record of what was sent.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from config.errors import DomainError
from directory import permissions
from integrations import endpoints, outbox, selectors
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
        fields = ["organisation", "kind", "url", "email", "description", "full_message", "active"]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or (self.instance.kind if self.instance.pk else None)
        if kind:
            try:
                cleaned["url"], cleaned["email"] = endpoints.endpoint_target_clean(
                    kind=kind, url=cleaned.get("url", ""), email=cleaned.get("email", "")
                )
                endpoints.endpoint_full_message_clean(kind, cleaned.get("full_message", False))
            except DomainError as exc:
                raise _domain_to_validation_error(exc) from None
        return cleaned


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """Partners set up, test and switch off their own organisation's endpoints; operators all.

    Every row and every choice of organisation is scoped by directory.permissions, so a
    partner never learns of another organisation's endpoints (404 on their pages).
    """

    form = EndpointForm
    list_display = ["__str__", "organisation", "kind", "active", "disabled_reason", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["url", "email", "description", "organisation__name"]
    list_select_related = ["organisation"]
    readonly_fields = ["disabled_reason", "created_at"]
    actions = ["send_test", "switch_off", "switch_on"]

    # --- access ---

    def get_queryset(self, request):
        return permissions.endpoints_visible_to(request.user, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404  # another organisation's endpoint does not exist for a partner
        return obj

    def _may_manage(self, request) -> bool:
        return permissions.can_use_admin(request.user) and permissions.can_manage_endpoints(
            request.user
        )

    def _owns(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may_manage(request) and self._owns(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_manage(request) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_manage(request) and self._owns(request, obj)

    # --- the form ---

    def get_fields(self, request, obj=None):
        fields = list(self.form.Meta.fields)
        if obj is None and not permissions.is_operator(request.user):
            fields.remove("organisation")  # a partner's endpoint is their organisation's
        if obj is not None:
            fields += self.readonly_fields
        return fields

    def get_readonly_fields(self, request, obj=None):
        fixed = ["organisation", "kind"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = permissions.organisations_administered_by(
                request.user, db_field.remote_field.model.objects.all()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_display(self, request):
        if permissions.is_operator(request.user):
            return self.list_display
        return [name for name in self.list_display if name != "organisation"]

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            endpoints.endpoint_update(
                endpoint=obj,
                url=data["url"],
                email=data["email"],
                description=data["description"],
                active=data["active"],
                full_message=data["full_message"],
            )
            return
        try:
            created = endpoints.endpoint_create(
                user=request.user,
                kind=data["kind"],
                url=data["url"],
                email=data["email"],
                description=data["description"],
                organisation=data.get("organisation"),
                full_message=data["full_message"],
            )
        except DomainError as exc:
            # The form allows only the user's own organisation; this is the service's word.
            raise PermissionDenied(exc.message) from exc
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        obj.organisation_id = created.organisation_id
        if not data["active"]:
            endpoints.endpoint_update(endpoint=created, active=False)
        if created.kind != Endpoint.Kind.EMAIL:
            # Shown once, as in the API; the admin never displays it again.
            messages.warning(
                request,
                f"Signing secret (shown only now: copy it to your receiver, which checks each "
                f"message's webhook-signature with it): {created.secret}",
            )
        messages.info(
            request,
            'To check it works, tick it in the list and choose "Send a test event".',
        )

    # --- actions ---

    def has_manage_permission(self, request) -> bool:
        return self._may_manage(request)

    @admin.action(description="Send a test event", permissions=["manage"])
    def send_test(self, request, queryset) -> None:
        sent, refused = 0, []
        for endpoint in queryset:
            try:
                endpoints.endpoint_test(endpoint=endpoint)
            except DomainError as exc:
                refused.append(f"{endpoint}: {exc.message}")
            else:
                sent += 1
        if sent:
            messages.success(
                request,
                f"Test event queued for {sent} endpoint(s); see Deliveries for the outcome.",
            )
        if refused:
            messages.warning(request, "No test sent to " + "; ".join(refused))

    @admin.action(description="Switch off (send nothing more)", permissions=["manage"])
    def switch_off(self, request, queryset) -> None:
        for endpoint in queryset:
            endpoints.endpoint_update(endpoint=endpoint, active=False)
        messages.success(request, f"{queryset.count()} endpoint(s) switched off.")

    @admin.action(description="Switch on", permissions=["manage"])
    def switch_on(self, request, queryset) -> None:
        for endpoint in queryset:
            endpoints.endpoint_update(endpoint=endpoint, active=True)
        messages.success(request, f"{queryset.count()} endpoint(s) switched on.")


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
                outbox.delivery_replay(delivery_id=delivery_id)
            except DomainError as exc:
                refused.append(f"#{delivery_id}: {exc.message}")
            else:
                replayed += 1
        if replayed:
            messages.success(request, f"{replayed} delivery(ies) queued to be sent again.")
        if refused:
            messages.warning(request, "Not replayed: " + "; ".join(refused))
