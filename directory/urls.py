"""API routes of the directory app, mounted under /api/v1/ by config/urls.py."""

from django.urls import path

from directory import api

urlpatterns = [
    path("auth/token/", api.TokenApi.as_view(), name="auth-token"),
    path("auth/token/all/", api.TokenRevokeAllApi.as_view(), name="auth-token-all"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("categories/", api.CategoryListApi.as_view(), name="category-list"),
    path("services/", api.ServiceListApi.as_view(), name="service-list"),
    path("services/search/", api.ServiceSearchApi.as_view(), name="service-search"),
    path("services/<int:service_id>/", api.ServiceDetailApi.as_view(), name="service-detail"),
    path(
        "services/<int:service_id>/capacity/",
        api.ServiceCapacityApi.as_view(),
        name="service-capacity",
    ),
]
