"""The admin site: who may use it at all is decided by directory.permissions.can_use_admin.

Kept apart from the directory/admin/ package because Django resolves the default site while it
imports every app's admin module.
"""

from django.contrib.admin import AdminSite


class FrontdoorAdminSite(AdminSite):
    site_header = "frontdoor administration"
    site_title = "frontdoor admin"
    index_title = "Directory and operations"

    def has_permission(self, request) -> bool:
        from directory.permissions import can_use_admin

        user = request.user
        # is_staff is still required: Django's admin login form checks it, and it lets an
        # operator shut someone out of the admin without changing their role.
        return bool(user.is_active and user.is_staff and can_use_admin(user))
