"""Reads behind the HSDS API: the directory's services, organisations and categories.

Public data only. Filters run in the database, proximity included (bounding box on the
indexed coordinates, then the great-circle distance in SQL, as the search does).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from directory import reference
from directory.geo import bounding_box, distance_km_expression
from directory.hsds.taxonomy import category_term_id
from directory.models import Category, Organisation, Service
from directory.postcodes import postcode_locate


@dataclass(frozen=True)
class ServiceFilters:
    search: str = ""
    taxonomy_term_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    modified_after: datetime | None = None
    postcode: str = ""
    proximity: int | None = None  # metres


def _services() -> QuerySet[Service]:
    return Service.objects.select_related(
        "organisation", "location__borough", "location__organisation"
    ).prefetch_related("categories", "opening_spans", "opening_exceptions", "boroughs_covered")


def hsds_services(*, filters: ServiceFilters) -> QuerySet[Service]:
    """Services narrowed by the HSDS filters, by name then id (a stable paging order).

    With postcode and proximity: only those within proximity metres of the postcode,
    nearest first, each annotated with distance_km. A malformed or unknown postcode is a
    DomainError naming "postcode".
    """
    queryset = _services()
    if filters.search:
        text = filters.search
        queryset = queryset.filter(
            Q(name__icontains=text)
            | Q(public_name__icontains=text)
            | Q(description__icontains=text)
        )
    if filters.taxonomy_term_id is not None:
        wanted = str(filters.taxonomy_term_id)
        codes = [
            code for code in reference.category_ids_by_code() if category_term_id(code) == wanted
        ]
        # An unknown term matches nothing, as any other unmatched filter does.
        queryset = queryset.filter(categories__code__in=codes).distinct()
    if filters.organization_id is not None:
        queryset = queryset.filter(organisation__uuid=filters.organization_id)
    if filters.modified_after is not None:
        queryset = queryset.filter(updated_at__gte=filters.modified_after)
    if filters.postcode and filters.proximity:
        place = postcode_locate(filters.postcode)
        radius_km = filters.proximity / 1000
        min_lat, max_lat, min_lon, max_lon = bounding_box(
            place.latitude, place.longitude, radius_km
        )
        return (
            queryset.filter(
                location__latitude__range=(min_lat, max_lat),
                location__longitude__range=(min_lon, max_lon),
            )
            .annotate(
                distance_km=distance_km_expression(
                    place.latitude, place.longitude, "location__latitude", "location__longitude"
                )
            )
            .filter(distance_km__lte=radius_km)
            .order_by("distance_km", "id")
        )
    return queryset.order_by("name", "id")


def hsds_service_get(*, service_uuid: uuid.UUID) -> Service | None:
    return _services().filter(uuid=service_uuid).first()


def hsds_organisations(*, search: str = "") -> QuerySet[Organisation]:
    queryset = Organisation.objects.order_by("name", "id")
    if search:
        queryset = queryset.filter(name__icontains=search)
    return queryset


def hsds_organisation_get(*, organisation_uuid: uuid.UUID) -> Organisation | None:
    return Organisation.objects.filter(uuid=organisation_uuid).first()


def hsds_categories() -> QuerySet[Category]:
    return Category.objects.order_by("code")


def page_of(items: Any, *, page: int, per_page: int) -> tuple[list[Any], int]:
    """(the items on this page, how many in all). `items` is a queryset or a list."""
    total = items.count() if isinstance(items, QuerySet) else len(items)
    start = (page - 1) * per_page
    return list(items[start : start + per_page]), total
