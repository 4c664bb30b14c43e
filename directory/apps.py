from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DirectoryConfig(AppConfig):
    name = "directory"
    default_auto_field = "django.db.models.BigAutoField"
    default = True  # apps.py holds two configs; this one is the directory app's


class FrontdoorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site, whose access follows directory.permissions."""

    default = False
    default_site = "directory.admin_site.FrontdoorAdminSite"
