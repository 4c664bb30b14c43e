"""API routes of the referrals app, mounted under /api/v1/ by config/urls.py.

The referral's UUID is the only identifier in these URLs.
"""

from django.urls import path

from referrals import api, api_actions

urlpatterns = [
    path("referrals/", api.ReferralCollectionApi.as_view(), name="referral-list"),
    path("referrals/<uuid:referral_id>/", api.ReferralDetailApi.as_view(), name="referral-detail"),
    path(
        "referrals/<uuid:referral_id>/events/",
        api.ReferralEventListApi.as_view(),
        name="referral-events",
    ),
    path(
        "referrals/<uuid:referral_id>/acknowledge/",
        api_actions.ReferralAcknowledgeApi.as_view(),
        name="referral-acknowledge",
    ),
    path(
        "referrals/<uuid:referral_id>/accept/",
        api_actions.ReferralAcceptApi.as_view(),
        name="referral-accept",
    ),
    path(
        "referrals/<uuid:referral_id>/decline/",
        api_actions.ReferralDeclineApi.as_view(),
        name="referral-decline",
    ),
    path(
        "referrals/<uuid:referral_id>/complete/",
        api_actions.ReferralCompleteApi.as_view(),
        name="referral-complete",
    ),
    path(
        "referrals/<uuid:referral_id>/cancel/",
        api_actions.ReferralCancelApi.as_view(),
        name="referral-cancel",
    ),
]
