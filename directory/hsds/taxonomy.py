"""HSDS ids and taxonomies: stable derived ids, frontdoor's two taxonomies and their
terms, and the attributes that carry a service's categories and facts.

What frontdoor knows and HSDS has no field for (sexes served, inclusion and exclusion
criteria, bank-holiday hours) travels as HSDS attributes: a taxonomy term from the
"frontdoor-service-facts" taxonomy with the value in `value`. Categories are attributes
with a term of the "frontdoor-categories" taxonomy.
"""

from __future__ import annotations

import uuid
from typing import Any

from directory.models import Category, Service

_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://frontdoor.nhs.uk/hsds")
CATEGORY_TAXONOMY_ID = uuid.uuid5(_NS, "taxonomy/frontdoor-categories")
FACT_TAXONOMY_ID = uuid.uuid5(_NS, "taxonomy/frontdoor-service-facts")
# The facts that travel as attributes: term code -> description.
FACT_TERMS = {
    "sexes": "Sexes the service takes, comma-separated (empty: all)",
    "inclusion-criteria": "Who the service is for",
    "exclusion-criteria": "Who the service is not for",
    "bank-holiday-hours": "On England bank holidays: normal, closed or sunday (Sunday hours)",
}


def derived_id(owner: uuid.UUID | str, what: str) -> str:
    """A stable id for something that belongs to `owner` (uuid5 of the owner's id)."""
    return str(uuid.uuid5(uuid.UUID(str(owner)), what))


def category_term_id(code: str) -> str:
    return str(uuid.uuid5(_NS, f"term/category/{code}"))


def fact_term_id(code: str) -> str:
    return str(uuid.uuid5(_NS, f"term/fact/{code}"))


def taxonomies() -> list[dict[str, Any]]:
    return [
        {
            "id": str(CATEGORY_TAXONOMY_ID),
            "name": "frontdoor-categories",
            "description": "frontdoor's coded urgent-care service categories",
            "uri": None,
            "version": "1",
            "metadata": [],
        },
        {
            "id": str(FACT_TAXONOMY_ID),
            "name": "frontdoor-service-facts",
            "description": "Service facts HSDS has no field for, carried as attribute values",
            "uri": None,
            "version": "1",
            "metadata": [],
        },
    ]


def category_term(category: Category) -> dict[str, Any]:
    return {
        "id": category_term_id(category.code),
        "code": category.code,
        "name": category.name,
        "description": category.description or category.name,
        "parent_id": None,
        "taxonomy": "frontdoor-categories",
        "language": "en",
        "taxonomy_id": str(CATEGORY_TAXONOMY_ID),
        "term_uri": None,
        "metadata": [],
    }


def fact_terms() -> list[dict[str, Any]]:
    return [
        {
            "id": fact_term_id(code),
            "code": code,
            "name": code.replace("-", " "),
            "description": description,
            "parent_id": None,
            "taxonomy": "frontdoor-service-facts",
            "language": "en",
            "taxonomy_id": str(FACT_TAXONOMY_ID),
            "term_uri": None,
            "metadata": [],
        }
        for code, description in FACT_TERMS.items()
    ]


def _attribute(service: Service, term: dict[str, Any], value: str) -> dict[str, Any]:
    return {
        "id": derived_id(service.uuid, f"attribute/{term['id']}"),
        "link_id": str(service.uuid),
        "link_type": "service",
        "link_entity": "service",
        "value": value,
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
        "label": term["name"],
        "metadata": [],
    }


def service_attributes(service: Service) -> list[dict[str, Any]]:
    attributes = [_attribute(service, category_term(c), c.code) for c in service.categories.all()]
    terms = {term["code"]: term for term in fact_terms()}
    facts = {
        "sexes": ",".join(service.sexes or []),
        "inclusion-criteria": service.inclusion_criteria,
        "exclusion-criteria": service.exclusion_criteria,
        "bank-holiday-hours": service.bank_holiday_hours,
    }
    for code, value in facts.items():
        if value:
            attributes.append(_attribute(service, terms[code], value))
    return attributes
