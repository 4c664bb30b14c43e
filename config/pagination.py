"""The API's page numbers: DRF's, with a bad `page` named like any other bad parameter."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import NotFound

from config.errors import DomainError


class PageNumberPagination(pagination.PageNumberPagination):
    """Not a whole number from 1: 400; past the last page: 404; both name `page` (DRF's own
    answer to either is a bare 404 "Invalid page.")."""

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "")
        # ASCII only: "²".isdigit() is true, and int("²") raises.
        whole = raw.isascii() and raw.isdigit() and int(raw) >= 1
        if raw and raw not in self.last_page_strings and not whole:
            raise DomainError(
                "page: Must be a whole number from 1.",
                fields={"page": "Must be a whole number from 1."},
            )
        try:
            return super().paginate_queryset(queryset, request, view=view)
        except NotFound as exc:
            raise DomainError(
                "page: There is no such page.",
                code="not_found",
                status_code=404,
                fields={"page": "Past the last page."},
            ) from exc
