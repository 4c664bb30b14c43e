"""The planners' reports page and its charts, mounted at /reports/."""

from django.urls import path

from reports import views as reports_views

app_name = "reports"

urlpatterns = [
    path("", reports_views.reports_page, name="index"),
    path("charts/<slug:name>.svg", reports_views.reports_chart, name="chart"),
]
