"""The directory as Open Referral HSDS 3.0 records: pure functions from models to dicts.

Ids are stable UUIDs: organisations, locations and services carry their own; everything
that hangs off them (schedules, phones, addresses, service-at-locations, attributes) gets
a UUID derived from its owner's and what it is, so the same row always publishes the same
id and an import of our own export finds what it already has (directory.hsds.taxonomy).

Categories and the facts HSDS has no field for travel as attributes
(directory.hsds.taxonomy); weekly hours and dated exceptions as schedules
(directory.hsds.schedules). Live capacity and the professional phone are never published.
"""

from __future__ import annotations

from typing import Any

from directory.hsds.schedules import schedules
from directory.hsds.taxonomy import derived_id, service_attributes
from directory.models import Location, Organisation, Service

HSDS_VERSION = "3.0"
HSDS_PROFILE = "https://openreferral.org/"
GSS_URI = "http://statistics.data.gov.uk/id/statistical-geography/"


# --- organisation and location -------------------------------------------------------------


def organization(organisation: Organisation) -> dict[str, Any]:
    return {
        "id": str(organisation.uuid),
        "name": organisation.name,
        "alternate_name": None,
        "description": organisation.get_kind_display(),
        "email": None,
        "website": None,
        "tax_status": None,
        "tax_id": None,
        "year_incorporated": None,
        "legal_status": organisation.kind,
        "logo": None,
        "uri": None,
        "parent_organization_id": None,
        "organization_identifiers": [
            {
                "id": derived_id(organisation.uuid, "identifier/ods"),
                "organization_id": str(organisation.uuid),
                "identifier_scheme": "ODS",
                "identifier_type": "ODS code",
                "identifier": organisation.ods_code,
            }
        ],
        "funding": [],
        "contacts": [],
        "phones": [],
        "programs": [],
        "attributes": [],
        "metadata": [],
    }


def location(place: Location) -> dict[str, Any]:
    return {
        "id": str(place.uuid),
        "location_type": "physical",
        "url": None,
        "organization_id": str(place.organisation.uuid),
        "name": place.name or None,
        "alternate_name": None,
        "description": None,
        "transportation": None,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "external_identifier": place.borough_id,
        "external_identifier_type": "GSS local authority code",
        "addresses": [
            {
                "id": derived_id(place.uuid, "address/physical"),
                "location_id": str(place.uuid),
                "attention": None,
                "address_1": place.address,
                "address_2": None,
                "city": "London",
                "region": place.borough.name,
                "state_province": "Greater London",
                "postal_code": place.postcode,
                "country": "GB",
                "address_type": "physical",
            }
        ],
        "phones": [],
        "schedules": [],
        "accessibility": [],
        "languages": [],
        "contacts": [],
        "attributes": [],
        "metadata": [],
    }


# --- services ------------------------------------------------------------------------------


def eligibility_description(service: Service) -> str | None:
    parts = []
    if service.sexes:
        parts.append(f"Sex: {', '.join(service.sexes)}.")
    if service.inclusion_criteria:
        parts.append(f"For: {service.inclusion_criteria}")
    if service.exclusion_criteria:
        parts.append(f"Not for: {service.exclusion_criteria}")
    return " ".join(parts) or None


def service_minimal(service: Service) -> dict[str, Any]:
    """The service's own fields, nothing nested (the `minimal` list form)."""
    return {
        "id": str(service.uuid),
        "organization_id": str(service.organisation.uuid),
        "program_id": None,
        "name": service.name,
        "alternate_name": service.public_name or None,
        "description": service.description or None,
        "url": None,
        "email": None,
        "status": "active" if service.active else "inactive",
        "interpretation_services": None,
        "application_process": service.referral_instructions or None,
        "fees_description": None,
        "wait_time": None,
        "fees": None,
        "accreditations": None,
        "eligibility_description": eligibility_description(service),
        "minimum_age": service.min_age,
        "maximum_age": service.max_age,
        "assured_date": None,
        "assurer_email": None,
        "licenses": None,
        "alert": None,
        "last_modified": service.updated_at.isoformat() if service.updated_at else None,
    }


def phones(service: Service) -> list[dict[str, Any]]:
    # Only the public number: the professional line is for crews and partners.
    if not service.phone:
        return []
    return [
        {
            "id": derived_id(service.uuid, "phone/public"),
            "location_id": None,
            "service_id": str(service.uuid),
            "organization_id": None,
            "contact_id": None,
            "service_at_location_id": None,
            "number": service.phone,
            "extension": None,
            "type": "voice",
            "description": "Public",
            "languages": [],
            "attributes": [],
            "metadata": [],
        }
    ]


def service_areas(service: Service) -> list[dict[str, Any]]:
    return [
        {
            "id": derived_id(service.uuid, f"area/{borough.gss_code}"),
            "service_id": str(service.uuid),
            "service_at_location_id": None,
            "name": borough.name,
            "description": f"London borough ({borough.ics})",
            "extent": None,
            "extent_type": None,
            "uri": GSS_URI + borough.gss_code,
            "attributes": [],
            "metadata": [],
        }
        for borough in service.boroughs_covered.all()
    ]


def service_at_location_id(service: Service) -> str:
    return derived_id(service.uuid, f"at/{service.location.uuid}")


def service_at_location(service: Service, *, with_service: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": service_at_location_id(service),
        "service_id": str(service.uuid),
        "location_id": str(service.location.uuid),
        "description": None,
        "service_areas": [],
        "contacts": [],
        "phones": [],
        "schedules": [],
        "location": location(service.location),
        "attributes": [],
        "metadata": [],
    }
    if with_service:
        record["service"] = service_minimal(service)
    return record


def service_summary(service: Service) -> dict[str, Any]:
    """The default list form: the service's fields, its organisation and its categories."""
    return {
        **service_minimal(service),
        "organization": organization(service.organisation),
        "attributes": service_attributes(service),
    }


def service_full(service: Service) -> dict[str, Any]:
    """The full record, as /hsds/services/{id} answers and import_hsds reads."""
    return {
        **service_minimal(service),
        "phones": phones(service),
        "schedules": schedules(service),
        "service_areas": service_areas(service),
        "service_at_locations": [service_at_location(service)],
        "languages": [],
        "organization": organization(service.organisation),
        "funding": [],
        "cost_options": [],
        "program": None,
        "required_documents": [],
        "contacts": [],
        "attributes": service_attributes(service),
        "metadata": [],
    }
