"""The planners' reports page, mounted at /reports/."""

urlpatterns: list = []
