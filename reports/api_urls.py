"""Report API routes, mounted at /api/v1/reports/."""

from django.urls import path

from reports import api

app_name = "reports-api"

urlpatterns = [
    path("referrals/", api.ReferralReportApi.as_view(), name="referrals"),
    path("referrals/rows/", api.ReferralExtractApi.as_view(), name="referral-rows"),
    path("gaps/", api.GapReportApi.as_view(), name="gaps"),
]
