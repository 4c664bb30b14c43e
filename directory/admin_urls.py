"""The operators' services import (HSDS JSON or CSV), an admin page of the directory's own.

Mounted under /admin/ by config/urls.py, before the admin's own catch-all.
"""

from django.contrib import admin
from django.urls import path

from directory.admin.imports import services_import_view

urlpatterns = [
    path(
        "import-services/",
        admin.site.admin_view(services_import_view),
        name="admin-import-services",
    ),
]
