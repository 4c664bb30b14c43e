"""The referral pages for crews and partners: refer, follow, cancel, and the inbox.

Mounted at the site's root by config/site_urls.py; the names are global (no namespace).
Referral pages carry only the referral's UUID in their addresses: no patient detail.
"""

from django.urls import path

from referrals.views import crew, partner, refer

urlpatterns = [
    # crew
    path("refer/<int:service_id>/", refer.refer, name="refer"),
    path("refer/sending/<slug:key>/", refer.referral_sending, name="referral-sending"),
    path("referrals/", crew.my_referrals, name="my-referrals"),
    path("referrals/<uuid:referral_id>/", crew.referral_status, name="referral-status"),
    path(
        "referrals/<uuid:referral_id>/live/",
        crew.referral_status_live,
        name="referral-status-live",
    ),
    path("referrals/<uuid:referral_id>/cancel/", crew.referral_cancel, name="referral-cancel"),
    # partner
    path("inbox/", partner.inbox, name="inbox"),
    path("inbox/live/", partner.inbox_live, name="inbox-live"),
    path("inbox/<uuid:referral_id>/", partner.partner_referral, name="partner-referral"),
]
