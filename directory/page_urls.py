"""The directory's pages: signing in and out, the site's root, search and capacity.

Mounted at the site's root by config/site_urls.py; the names are global (no namespace).
"""

from django.urls import path

from directory import account_views, views

urlpatterns = [
    path("", account_views.root, name="home"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", account_views.LogoutView.as_view(), name="logout"),
    # crew
    path("search/", views.search, name="search"),
    # partner
    path("capacity/", views.capacity, name="capacity"),
    path("capacity/<int:service_id>/", views.capacity_update, name="capacity-update"),
]
