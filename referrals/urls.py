"""API routes of the referrals app, mounted under /api/v1/ by config/urls.py."""

urlpatterns: list = []
