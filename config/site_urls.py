"""Server-rendered pages for crews and partners (login, search, refer, inbox...), each app's
pages included by name so that config/ imports no app.

Referral pages carry only the referral's UUID in their addresses: no patient detail.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("directory.page_urls")),
    path("", include("referrals.page_urls")),
]
