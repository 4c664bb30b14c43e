"""FHIR R4 routes, mounted at /api/v1/fhir/ by config/urls.py."""

from django.urls import path

from integrations import fhir_api

urlpatterns = [
    path("$process-message", fhir_api.ProcessMessageApi.as_view(), name="fhir-process-message"),
    path(
        "HealthcareService/<str:service_id>",
        fhir_api.HealthcareServiceApi.as_view(),
        name="fhir-healthcare-service",
    ),
]
