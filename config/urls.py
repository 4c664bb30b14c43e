from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    # Operators' services import (HSDS JSON or CSV), before the admin's own catch-all.
    path("admin/", include("directory.admin_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/reports/", include("reports.api_urls")),
    # FHIR R4: $process-message and HealthcareService (integrations/fhir_api.py).
    path("api/v1/fhir/", include("integrations.fhir_urls")),
    path("api/v1/", include("directory.urls")),
    path("api/v1/", include("referrals.urls")),
    path("api/v1/", include("integrations.urls")),
    # Open Referral HSDS 3.0, public and read-only (directory/hsds).
    path("hsds/", include("directory.hsds.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as its own file: no inline script,
    # so the page lives under the site's Content-Security-Policy.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("reports/", include("reports.urls")),
    path("", include("config.site_urls")),
]

# Under /api/ every error, even one no view answers, is in the API's one error shape.
handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
