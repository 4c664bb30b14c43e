"""django-filter sets used inside the directory selectors."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from directory.models import ICS, Borough, Category, Organisation, Service


class ServiceFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        field_name="categories", to_field_name="code", queryset=Category.objects.all()
    )
    borough = django_filters.CharFilter(method="filter_borough")
    ics = django_filters.ChoiceFilter(field_name="location__borough__ics", choices=ICS.choices)
    organisation = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all())
    q = django_filters.CharFilter(method="filter_q")

    class Meta:
        model = Service
        fields = ["category", "borough", "ics", "organisation", "q"]

    def filter_borough(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A borough by its GSS code (E09000033) or its slug (westminster).
        borough = Borough.objects.filter(Q(gss_code=value.upper()) | Q(slug=value.lower())).first()
        if borough is None:
            from config.errors import DomainError

            raise DomainError(
                f"No London borough {value!r}.", code="invalid", fields={"borough": "Unknown."}
            )
        return queryset.filter(location__borough=borough)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(public_name__icontains=value)
            | Q(description__icontains=value)
        )
