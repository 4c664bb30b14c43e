"""Reference data: categories, boroughs, postcodes and postcode areas (operators only)."""

from __future__ import annotations

from django.contrib import admin

from directory.admin.access import OperatorOnlyAdmin
from directory.models import Borough, Category, Postcode, PostcodeArea


@admin.register(Category)
class CategoryAdmin(OperatorOnlyAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Borough)
class BoroughAdmin(OperatorOnlyAdmin):
    list_display = ["name", "gss_code", "ics", "centre_latitude", "centre_longitude"]
    list_filter = ["ics"]


@admin.register(Postcode)
class PostcodeAdmin(OperatorOnlyAdmin):
    list_display = ["postcode", "latitude", "longitude", "borough", "local_authority_code"]
    list_select_related = ["borough"]
    search_fields = ["postcode"]
    list_filter = ["borough__ics"]
    show_full_result_count = False  # the ONSPD holds millions of rows


@admin.register(PostcodeArea)
class PostcodeAreaAdmin(OperatorOnlyAdmin):
    """Read-only: the migration loads these from directory/data/postcode_areas.csv."""

    list_display = ["code", "kind", "latitude", "longitude", "borough", "local_authority_code"]
    list_select_related = ["borough"]
    search_fields = ["code"]
    list_filter = ["kind", "borough__ics"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
