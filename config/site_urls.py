"""Server-rendered pages for crews and partners (login, search, refer, inbox...).

Referral pages carry only the referral's UUID in their addresses: no patient detail.
"""

from django.urls import path

from config import views
from directory import views as directory_views
from referrals import views as referral_views

urlpatterns = [
    path("", views.root, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # crew
    path("search/", directory_views.search, name="search"),
    path("refer/<int:service_id>/", referral_views.refer, name="refer"),
    path("refer/sending/<slug:key>/", referral_views.referral_sending, name="referral-sending"),
    path("referrals/", referral_views.my_referrals, name="my-referrals"),
    path("referrals/<uuid:referral_id>/", referral_views.referral_status, name="referral-status"),
    path(
        "referrals/<uuid:referral_id>/live/",
        referral_views.referral_status_live,
        name="referral-status-live",
    ),
    path(
        "referrals/<uuid:referral_id>/cancel/",
        referral_views.referral_cancel,
        name="referral-cancel",
    ),
    # partner
    path("inbox/", referral_views.inbox, name="inbox"),
    path("inbox/live/", referral_views.inbox_live, name="inbox-live"),
    path("inbox/<uuid:referral_id>/", referral_views.partner_referral, name="partner-referral"),
    path("capacity/", directory_views.capacity, name="capacity"),
    path("capacity/<int:service_id>/", directory_views.capacity_update, name="capacity-update"),
]
