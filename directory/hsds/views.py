"""The HSDS 3.0 read API under /hsds/: public, read-only, open to any origin (CORS *).

Directory data only: never referrals, never live capacity, never professional phones.
Lists are HSDS pages: total_items, total_pages, page_number, size, first_page, last_page,
empty, contents. Errors keep the API's one shape, {"error": {...}} with a 4xx.
"""

from __future__ import annotations

import math
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from directory.hsds import mapping, taxonomy
from directory.hsds.selectors import (
    ServiceFilters,
    hsds_categories,
    hsds_organisation_get,
    hsds_organisations,
    hsds_service_get,
    hsds_services,
    page_of,
)

MAX_PER_PAGE = 200


class PageParams(serializers.Serializer):
    page = serializers.IntegerField(required=False, default=1, min_value=1)
    per_page = serializers.IntegerField(
        required=False, default=50, min_value=1, max_value=MAX_PER_PAGE
    )
    search = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)


class ServiceParams(PageParams):
    taxonomy_term_id = serializers.UUIDField(required=False, default=None)
    organization_id = serializers.UUIDField(required=False, default=None)
    modified_after = serializers.DateTimeField(required=False, default=None)
    minimal = serializers.BooleanField(required=False, default=False)
    full = serializers.BooleanField(required=False, default=False)
    postcode = serializers.CharField(required=False, default="", allow_blank=True, max_length=10)
    proximity = serializers.IntegerField(
        required=False, default=None, min_value=1, max_value=100_000
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["minimal"] and data["full"]:
            raise serializers.ValidationError({"full": ["Ask for minimal or full, not both."]})
        if bool(data["postcode"]) != bool(data["proximity"]):
            name = "proximity" if data["postcode"] else "postcode"
            raise serializers.ValidationError(
                {name: ["postcode and proximity (metres) go together."]}
            )
        return data


def _params(serializer_class, request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _paged(rows, params: dict[str, Any], shape=None) -> Response:
    """One page of `rows` (a queryset or a list) in HSDS's page envelope, each row shaped."""
    page, per_page = params["page"], params["per_page"]
    items, total = page_of(rows, page=page, per_page=per_page)
    contents = [shape(item) for item in items] if shape else list(items)
    total_pages = max(1, math.ceil(total / per_page))
    return Response(
        {
            "total_items": total,
            "total_pages": total_pages,
            "page_number": page,
            "size": len(contents),
            "first_page": page == 1,
            "last_page": page >= total_pages,
            "empty": not contents,
            "contents": contents,
        }
    )


def _service_filters(params: dict[str, Any]) -> ServiceFilters:
    return ServiceFilters(
        search=params["search"],
        taxonomy_term_id=params["taxonomy_term_id"],
        organization_id=params["organization_id"],
        modified_after=params["modified_after"],
        postcode=params["postcode"],
        proximity=params["proximity"],
    )


def _not_found(what: str) -> DomainError:
    return DomainError(f"No such {what}.", code="not_found", status_code=404)


class HsdsApi(APIView):
    """Public and read-only; any origin may read it from a browser."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    http_method_names = ["get", "head", "options"]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        return response


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsRootApi(HsdsApi):
    def get(self, request):
        return Response(
            {
                "version": mapping.HSDS_VERSION,
                "profile": mapping.HSDS_PROFILE,
                "openapi_url": request.build_absolute_uri(reverse("schema")),
                "publisher": "frontdoor",
            }
        )


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsServiceListApi(HsdsApi):
    def get(self, request):
        params = _params(ServiceParams, request)
        if params["minimal"]:
            shape = mapping.service_minimal
        elif params["full"]:
            shape = mapping.service_full
        else:
            shape = mapping.service_summary
        return _paged(hsds_services(filters=_service_filters(params)), params, shape)


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsServiceDetailApi(HsdsApi):
    def get(self, request, service_id):
        service = hsds_service_get(service_uuid=service_id)
        if service is None:
            raise _not_found("service")
        return Response(mapping.service_full(service))


def _at_location(service) -> dict[str, Any]:
    record = mapping.service_at_location(service, with_service=True)
    if hasattr(service, "distance_km"):
        record["distance"] = round(service.distance_km * 1000)  # metres
    return record


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsServiceAtLocationListApi(HsdsApi):
    def get(self, request):
        params = _params(ServiceParams, request)
        return _paged(hsds_services(filters=_service_filters(params)), params, _at_location)


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsOrganizationListApi(HsdsApi):
    def get(self, request):
        params = _params(PageParams, request)
        return _paged(hsds_organisations(search=params["search"]), params, mapping.organization)


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsOrganizationDetailApi(HsdsApi):
    def get(self, request, organization_id):
        organisation = hsds_organisation_get(organisation_uuid=organization_id)
        if organisation is None:
            raise _not_found("organization")
        services = hsds_services(filters=ServiceFilters(organization_id=organisation.uuid))
        return Response(
            {
                **mapping.organization(organisation),
                "services": [mapping.service_minimal(s) for s in services],
            }
        )


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsTaxonomyListApi(HsdsApi):
    def get(self, request):
        params = _params(PageParams, request)
        taxonomies = taxonomy.taxonomies()
        return _paged(taxonomies, params)


class TermParams(PageParams):
    taxonomy_id = serializers.UUIDField(required=False, default=None)


@extend_schema(responses=OpenApiTypes.OBJECT)
class HsdsTaxonomyTermListApi(HsdsApi):
    def get(self, request):
        params = _params(TermParams, request)
        terms = [taxonomy.category_term(c) for c in hsds_categories()] + taxonomy.fact_terms()
        if params["taxonomy_id"] is not None:
            terms = [t for t in terms if t["taxonomy_id"] == str(params["taxonomy_id"])]
        if params["search"]:
            text = params["search"].lower()
            terms = [t for t in terms if text in t["name"].lower() or text in t["code"]]
        return _paged(terms, params)
