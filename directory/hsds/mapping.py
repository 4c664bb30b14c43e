"""The directory as Open Referral HSDS 3.0 records: pure functions from models to dicts.

Ids are stable UUIDs: organisations, locations and services carry their own; everything
that hangs off them (schedules, phones, addresses, service-at-locations, attributes) gets
a UUID derived from its owner's and what it is, so the same row always publishes the same
id and an import of our own export finds what it already has.

What frontdoor knows and HSDS has no field for (sexes served, inclusion and exclusion
criteria, bank-holiday hours) travels as HSDS attributes: a taxonomy term from the
"frontdoor-service-facts" taxonomy with the value in `value`. Categories are attributes
with a term of the "frontdoor-categories" taxonomy. Live capacity and the professional
phone are never published.
"""

from __future__ import annotations

import uuid
from typing import Any

from directory.models import (
    Category,
    Location,
    OpeningException,
    OpeningSpan,
    Organisation,
    Service,
)

HSDS_VERSION = "3.0"
HSDS_PROFILE = "https://openreferral.org/"
GSS_URI = "http://statistics.data.gov.uk/id/statistical-geography/"
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

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


def _hm(value) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


# --- taxonomy ------------------------------------------------------------------------------


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


# --- schedules -----------------------------------------------------------------------------


def _schedule_base(service: Service, schedule_id: str) -> dict[str, Any]:
    return {
        "id": schedule_id,
        "service_id": str(service.uuid),
        "location_id": None,
        "service_at_location_id": None,
        "valid_from": None,
        "valid_to": None,
        "dtstart": None,
        "timezone": None,
        "until": None,
        "count": None,
        "wkst": None,
        "freq": None,
        "interval": None,
        "byday": None,
        "byweekno": None,
        "bymonthday": None,
        "byyearday": None,
        "description": None,
        "opens_at": None,
        "closes_at": None,
        "schedule_link": None,
        "attending_type": "in_person",
        "notes": None,
        "attributes": [],
        "metadata": [],
    }


def weekly_schedule(service: Service, span: OpeningSpan) -> dict[str, Any]:
    """One weekly span. Times are Europe/London wall clock; closes_at <= opens_at runs
    overnight into the next day, and 00:00-00:00 is the whole day (as in directory.hours)."""
    opens, closes = _hm(span.opens), _hm(span.closes)
    schedule = _schedule_base(
        service, derived_id(service.uuid, f"schedule/weekly/{span.weekday}/{opens}/{closes}")
    )
    if opens == closes:
        note = "Open all day (Europe/London)."
    elif closes < opens:
        note = "Runs overnight: closes the next morning (Europe/London)."
    else:
        note = "Europe/London local time."
    schedule.update(
        freq="WEEKLY",
        interval=1,
        byday=BYDAY[span.weekday],
        wkst="MO",
        opens_at=opens,
        closes_at=closes,
        description=f"{span.get_weekday_display()} {opens}-{closes}",
        notes=note,
    )
    return schedule


def exception_schedule(service: Service, exception: OpeningException) -> dict[str, Any]:
    """A dated exception: valid for that one day, closed (no times) or open opens-closes."""
    day = exception.date.isoformat()
    schedule = _schedule_base(service, derived_id(service.uuid, f"schedule/exception/{day}"))
    schedule.update(
        valid_from=day,
        valid_to=day,
        dtstart=day,
        description="Closed" if exception.closed else "Open instead of the usual hours",
        opens_at=None if exception.closed else _hm(exception.opens),
        closes_at=None if exception.closed else _hm(exception.closes),
        notes=exception.note or None,
    )
    return schedule


def schedules(service: Service) -> list[dict[str, Any]]:
    return [weekly_schedule(service, s) for s in service.opening_spans.all()] + [
        exception_schedule(service, e) for e in service.opening_exceptions.all()
    ]


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
