"""Organisations, users and login lockouts: operators only."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from directory import permissions
from directory.admin.access import OperatorOnlyAdmin
from directory.models import Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(OperatorOnlyAdmin):
    list_display = ["name", "ods_code", "kind", "ics", "borough"]
    list_filter = ["kind", "ics"]
    search_fields = ["name", "ods_code"]


@admin.register(User)
class UserAdmin(OperatorOnlyAdmin, DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "role",
        "organisation",
        "is_staff",
        "is_active",
    ]
    list_filter = ["role", "is_staff", "is_active"]
    list_select_related = ["organisation"]
    search_fields = ["username", "first_name", "last_name", "email", "organisation__name"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        (
            "Access",
            {
                "fields": ["organisation", "role", "is_active", "is_staff", "is_superuser"],
                "description": "Partners and operators also need 'staff status' for the admin.",
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "organisation",
                    "role",
                    "is_staff",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")  # only a superuser makes another
        return fields


# --- login lockouts (django-axes) ---------------------------------------------------------


@admin.register(AccessAttempt)
class LoginLockoutAdmin(AxesAccessAttemptAdmin):
    """Operators see failed logins and unlock an account by deleting its row."""

    def has_module_permission(self, request) -> bool:
        return permissions.is_operator(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)
