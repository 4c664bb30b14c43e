"""Report API routes, mounted at /api/v1/reports/."""

from django.urls import path

from reports import api as reports_api

app_name = "reports-api"

urlpatterns = [
    path("referrals/", reports_api.ReferralReportApi.as_view(), name="referrals"),
    path("referrals/rows/", reports_api.ReferralExtractApi.as_view(), name="referral-rows"),
    path("gaps/", reports_api.GapReportApi.as_view(), name="gaps"),
]
