"""Who may use each admin page, from directory.permissions: operators only, or per organisation."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404

from directory import permissions
from directory.models import Location, Organisation


class OperatorOnlyAdmin(admin.ModelAdmin):
    """Reference data, organisations, users: operators only."""

    def has_module_permission(self, request) -> bool:
        return permissions.is_operator(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_add_permission(self, request) -> bool:
        return permissions.is_operator(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)


class OrganisationScopedAdmin(admin.ModelAdmin):
    """Rows of one organisation: partners their own, operators all."""

    organisation_path = "organisation"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return permissions.organisation_scoped(request.user, queryset, self.organisation_path)

    def get_object(self, request, object_id, from_field=None):
        # Another organisation's row does not exist for a partner: 404, not a redirect
        # that tells them it "doesn't exist" in a friendlier way.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def _owns(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        return permissions.can_use_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user) and self._owns(request, obj)

    def has_add_permission(self, request) -> bool:
        return permissions.can_use_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user) and self._owns(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A partner may only pick their own organisation and its sites.
        if db_field.name == "organisation":
            kwargs["queryset"] = permissions.organisations_administered_by(
                request.user, Organisation.objects.all()
            )
        elif db_field.name == "location":
            kwargs["queryset"] = permissions.organisation_scoped(
                request.user, Location.objects.select_related("borough")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if not permissions.is_operator(request.user) and request.user.organisation_id:
            initial.setdefault("organisation", request.user.organisation_id)
        return initial

    def get_list_filter(self, request):
        # The organisation filter would list every organisation's name: operators only.
        filters = list(super().get_list_filter(request))
        if not permissions.is_operator(request.user) and "organisation" in filters:
            filters.remove("organisation")
        return filters
