"""API routes of the integrations app, mounted under /api/v1/ by config/urls.py."""

from django.urls import path

from integrations import api

urlpatterns = [
    path("endpoints/", api.EndpointListApi.as_view(), name="endpoint-list"),
    path("endpoints/<int:endpoint_id>/", api.EndpointDetailApi.as_view(), name="endpoint-detail"),
    path("endpoints/<int:endpoint_id>/test/", api.EndpointTestApi.as_view(), name="endpoint-test"),
    path(
        "endpoints/<int:endpoint_id>/deliveries/",
        api.EndpointDeliveryListApi.as_view(),
        name="endpoint-deliveries",
    ),
    path(
        "deliveries/<int:delivery_id>/replay/",
        api.DeliveryReplayApi.as_view(),
        name="delivery-replay",
    ),
]
