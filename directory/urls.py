"""API routes of the directory app, mounted under /api/v1/ by config/urls.py."""

from django.urls import path

from directory import api

urlpatterns = [
    path("auth/token/", api.TokenApi.as_view(), name="auth-token"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("categories/", api.CategoryListApi.as_view(), name="category-list"),
]
