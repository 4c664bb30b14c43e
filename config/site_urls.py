"""Server-rendered pages for crews and partners (login, search, refer, inbox...)."""

urlpatterns: list = []
