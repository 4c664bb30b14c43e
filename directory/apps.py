from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DirectoryConfig(AppConfig):
    name = "directory"
    default_auto_field = "django.db.models.BigAutoField"
    default = True  # apps.py holds two configs; this one is the directory app's

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from config.pgtypes import stable_integer_types

        connection_created.connect(stable_integer_types)


class FrontdoorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site, whose access follows directory.permissions."""

    default = False
    default_site = "directory.admin_site.FrontdoorAdminSite"
