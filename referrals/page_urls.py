"""The referral pages for crews and partners: refer, follow, cancel, and the inbox.

Mounted at the site's root by config/site_urls.py; the names are global (no namespace).
Referral pages carry only the referral's UUID in their addresses: no patient detail.
"""

from django.urls import path

from referrals import views

urlpatterns = [
    # crew
    path("refer/<int:service_id>/", views.refer, name="refer"),
    path("refer/sending/<slug:key>/", views.referral_sending, name="referral-sending"),
    path("referrals/", views.my_referrals, name="my-referrals"),
    path("referrals/<uuid:referral_id>/", views.referral_status, name="referral-status"),
    path(
        "referrals/<uuid:referral_id>/live/",
        views.referral_status_live,
        name="referral-status-live",
    ),
    path("referrals/<uuid:referral_id>/cancel/", views.referral_cancel, name="referral-cancel"),
    # partner
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/live/", views.inbox_live, name="inbox-live"),
    path("inbox/<uuid:referral_id>/", views.partner_referral, name="partner-referral"),
]
