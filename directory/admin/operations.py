"""The operators' view of the search: its de-identified log and the index drift checks."""

from __future__ import annotations

from django.contrib import admin

from directory.admin.access import OperatorOnlyAdmin
from directory.models import SearchIndexCheck, SearchLog


@admin.register(SearchLog)
class SearchLogAdmin(OperatorOnlyAdmin):
    list_display = ["created_at", "borough", "postcode_district", "categories", "result_count"]
    list_filter = ["fallback_shown", "borough__ics"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SearchIndexCheck)
class SearchIndexCheckAdmin(OperatorOnlyAdmin):
    """Read-only: `manage.py check_search_index` writes one row per run."""

    list_display = ["checked_at", "rows_checked", "differences"]
    fields = ["checked_at", "rows_checked", "differences", "report"]
    readonly_fields = fields
    date_hierarchy = "checked_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
