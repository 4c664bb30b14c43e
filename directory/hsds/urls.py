"""HSDS 3.0 routes, mounted at /hsds/ by config/urls.py."""

from django.urls import path

from directory.hsds import views

urlpatterns = [
    path("", views.HsdsRootApi.as_view(), name="hsds-root"),
    path("services", views.HsdsServiceListApi.as_view(), name="hsds-services"),
    path("services/<uuid:service_id>", views.HsdsServiceDetailApi.as_view(), name="hsds-service"),
    path(
        "service_at_locations",
        views.HsdsServiceAtLocationListApi.as_view(),
        name="hsds-service-at-locations",
    ),
    path("organizations", views.HsdsOrganizationListApi.as_view(), name="hsds-organizations"),
    path(
        "organizations/<uuid:organization_id>",
        views.HsdsOrganizationDetailApi.as_view(),
        name="hsds-organization",
    ),
    path("taxonomies", views.HsdsTaxonomyListApi.as_view(), name="hsds-taxonomies"),
    path("taxonomy_terms", views.HsdsTaxonomyTermListApi.as_view(), name="hsds-taxonomy-terms"),
]
