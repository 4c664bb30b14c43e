"""The planners' reports page and its charts, mounted at /reports/."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.reports_page, name="index"),
    path("charts/<slug:name>.svg", views.reports_chart, name="chart"),
]
