"""Report API routes, mounted at /api/v1/reports/."""

urlpatterns: list = []
