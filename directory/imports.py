"""Bulk import of services (HSDS JSON, CSV): each service upserted whole, or not at all.

Both importers turn their input into ServiceRecords, then service_record_upsert writes
each one in its own transaction, with its search index rows (service_index_rebuild), so
a rejected or failed record leaves nothing half-written and the search never disagrees
with the directory. Upsert is by external id: a UUID (HSDS ids are; a CSV's service_id
is used as is when it is a UUID, otherwise turned into one by uuid5), so running the
same file again finds every service and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.db import DataError, IntegrityError, transaction

from directory import reference
from directory.models import (
    BankHolidayHours,
    Location,
    OpeningException,
    Organisation,
    Service,
    Sex,
)
from directory.postcodes import normalise_postcode, place_at
from directory.services import location_save, service_save

IMPORT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://frontdoor.nhs.uk/import")


class RowError(Exception):
    """Why one row or record cannot be imported (the rest go on)."""


def external_uuid(kind: str, value: str) -> uuid.UUID:
    """The UUID an external id stands for: itself if it is one, else a stable uuid5."""
    value = (value or "").strip()
    if not value:
        raise RowError(f"{kind} id is missing")
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.uuid5(IMPORT_NAMESPACE, f"{kind}:{value}")


@dataclass
class OrganisationRecord:
    uuid: uuid.UUID | None
    ods_code: str
    name: str
    kind: str | None = None  # None: keep what an existing one has (new ones: voluntary)


@dataclass
class LocationRecord:
    uuid: uuid.UUID
    address: str
    postcode: str
    latitude: float
    longitude: float
    borough_gss: str
    name: str = ""


@dataclass
class ServiceRecord:
    """One service as an importer read it: everything service_record_upsert writes."""

    uuid: uuid.UUID
    name: str
    organisation: OrganisationRecord
    location: LocationRecord
    categories: list[str]
    public_name: str = ""
    description: str = ""
    active: bool = True
    phone: str = ""
    referral_instructions: str = ""
    min_age: int | None = None
    max_age: int | None = None
    sexes: list[str] = field(default_factory=list)
    inclusion_criteria: str = ""
    exclusion_criteria: str = ""
    bank_holiday_hours: str = BankHolidayHours.NORMAL
    boroughs_covered: list[str] = field(default_factory=list)  # GSS codes
    spans: list[tuple[int, time, time]] = field(default_factory=list)
    exceptions: list[tuple[date, bool, time | None, time | None, str]] = field(default_factory=list)


# --- checks shared by the importers ------------------------------------------------------------


def check_record(record: ServiceRecord) -> ServiceRecord:
    """Refuse what the database would refuse, with a reason a person can act on."""
    if not record.name.strip():
        raise RowError("the service has no name")
    if len(record.name) > 200:
        raise RowError("the service name is longer than 200 characters")
    if not record.categories:
        raise RowError("no category frontdoor knows")
    known = reference.category_ids(record.categories)
    unknown = [code for code in record.categories if code not in known]
    if unknown:
        raise RowError(f"unknown category {unknown[0]!r}")
    for name in ("min_age", "max_age"):
        value = getattr(record, name)
        if value is not None and not 0 <= value <= 130:
            raise RowError(f"{name} must be between 0 and 130")
    if (
        record.min_age is not None
        and record.max_age is not None
        and record.min_age > record.max_age
    ):
        raise RowError("min_age is greater than max_age")
    bad_sexes = [s for s in record.sexes if s not in Sex.values]
    if bad_sexes:
        raise RowError(f"unknown sex {bad_sexes[0]!r}")
    if record.bank_holiday_hours not in BankHolidayHours.values:
        raise RowError(f"bank_holiday_hours must be one of {', '.join(BankHolidayHours.values)}")
    if len(record.phone) > 30:
        raise RowError("the phone number is longer than 30 characters")
    organisation = record.organisation
    if not organisation.ods_code or len(organisation.ods_code) > 10:
        raise RowError("the organisation needs an ODS code of at most 10 characters")
    if not organisation.name.strip():
        raise RowError("the organisation has no name")
    if organisation.kind is not None and organisation.kind not in Organisation.Kind.values:
        raise RowError(f"unknown organisation kind {organisation.kind!r}")
    location = record.location
    if not location.address.strip():
        raise RowError("the location has no address")
    if normalise_postcode(location.postcode) is None:
        raise RowError(f"{location.postcode!r} is not a UK postcode")
    location.postcode = normalise_postcode(location.postcode)
    if not (-90 <= location.latitude <= 90 and -180 <= location.longitude <= 180):
        raise RowError("latitude or longitude out of range")
    gss = {b.gss_code for b in reference.boroughs()}
    if location.borough_gss not in gss:
        raise RowError(f"unknown London borough {location.borough_gss!r}")
    unknown_areas = [code for code in record.boroughs_covered if code not in gss]
    if unknown_areas:
        raise RowError(f"unknown London borough {unknown_areas[0]!r} in the area covered")
    days = [d for d, _closed, *_ in record.exceptions]
    if len(days) != len(set(days)):
        raise RowError("two exceptions on the same date")
    for day, closed, opens, closes, _note in record.exceptions:
        if not closed and (opens is None or closes is None):
            raise RowError(f"the exception on {day} is open but has no hours")
    return record


def borough_code(
    value: str, *, latitude: float | None = None, longitude: float | None = None
) -> str:
    """A borough's GSS code from its code or name; else the one the point lies in."""
    value = (value or "").strip()
    for borough in reference.boroughs():
        if value and value.lower() in (borough.gss_code.lower(), borough.name.lower()):
            return borough.gss_code
    if not value and latitude is not None and longitude is not None:
        borough = place_at(latitude, longitude).borough
        if borough is not None:
            return borough.gss_code
    return value or "(none)"


# --- the write ---------------------------------------------------------------------------------


def _set(instance, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _organisation(record: OrganisationRecord) -> tuple[Organisation, bool]:
    found = None
    if record.uuid is not None:
        found = Organisation.objects.filter(uuid=record.uuid).first()
    if found is None:
        found = Organisation.objects.filter(ods_code=record.ods_code).first()
    if found is None:
        organisation = Organisation(
            name=record.name,
            ods_code=record.ods_code,
            kind=record.kind or Organisation.Kind.VOLUNTARY,
        )
        if record.uuid is not None:
            organisation.uuid = record.uuid
        organisation.save()
        return organisation, True
    values = {"name": record.name, "ods_code": record.ods_code}
    if record.kind is not None:
        values["kind"] = record.kind
    changed = _set(found, values)
    if changed:
        found.save()
    return found, changed


def _location(record: LocationRecord, organisation: Organisation) -> tuple[Location, bool]:
    values = {
        "name": record.name,
        "address": record.address,
        "postcode": record.postcode,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "borough_id": record.borough_gss,
        "organisation_id": organisation.pk,
    }
    found = Location.objects.filter(uuid=record.uuid).first()
    if found is None:
        return Location.objects.create(uuid=record.uuid, **values), True
    changed = _set(found, values)
    if changed:
        # Every service at a moved site is re-indexed, not only this record's.
        location_save(location=found)
    return found, changed


def _service_values(record: ServiceRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "public_name": record.public_name,
        "description": record.description,
        "active": record.active,
        "phone": record.phone,
        "referral_instructions": record.referral_instructions,
        "min_age": record.min_age,
        "max_age": record.max_age,
        "sexes": sorted(record.sexes),
        "inclusion_criteria": record.inclusion_criteria,
        "exclusion_criteria": record.exclusion_criteria,
        "bank_holiday_hours": record.bank_holiday_hours,
    }


def service_record_upsert(*, record: ServiceRecord) -> str:
    """Create or update one service from a record, whole; "created", "updated" or "unchanged".

    One transaction: the organisation, location, service, categories, area, hours,
    exceptions and the service's search index rows commit together or not at all.
    Capacity, referral settings and anything the record does not carry are left alone.
    """
    with transaction.atomic():
        organisation, organisation_changed = _organisation(record.organisation)
        location, location_changed = _location(record.location, organisation)
        service = Service.objects.filter(uuid=record.uuid).first()
        created = service is None
        values = {
            **_service_values(record),
            "organisation_id": organisation.pk,
            "location_id": location.pk,
        }
        if created:
            service = Service(uuid=record.uuid, referral_roles=["crew"], **values)
            changed = True
        else:
            changed = _set(service, values)

        # Only what differs is written; service_save re-indexes in this transaction.
        writes: dict[str, Any] = {}
        category_ids = set(reference.category_ids(record.categories).values())
        if created or set(service.categories.values_list("pk", flat=True)) != category_ids:
            writes["categories"] = category_ids
        if created or set(service.boroughs_covered.values_list("pk", flat=True)) != set(
            record.boroughs_covered
        ):
            writes["boroughs_covered"] = record.boroughs_covered
        spans = sorted(record.spans)
        if created or sorted(service.opening_spans.values_list("weekday", "opens", "closes")) != (
            spans
        ):
            writes["spans"] = spans
        exceptions = sorted(record.exceptions, key=lambda e: e[0])
        wanted_exceptions = [
            (d, closed, None if closed else o, None if closed else c, note)
            for d, closed, o, c, note in exceptions
        ]
        if created or (
            sorted(
                service.opening_exceptions.values_list("date", "closed", "opens", "closes", "note")
            )
            != wanted_exceptions
        ):
            writes["exceptions"] = [
                OpeningException(date=d, closed=closed, opens=o, closes=c, note=note[:200])
                for d, closed, o, c, note in wanted_exceptions
            ]
        if changed or writes:
            service_save(service=service, **writes)
            changed = True
    if created:
        return "created"
    return "updated" if changed or location_changed or organisation_changed else "unchanged"


# --- running an import ------------------------------------------------------------------------


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    def line(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {len(self.rejected)}"
        )


class _DryRunRollback(Exception):
    pass


def records_import(
    records: Iterable[tuple[str, ServiceRecord | RowError]],
    *,
    dry_run: bool = False,
    progress: Callable[[], None] | None = None,
) -> ImportSummary:
    """Upsert each (where, record) in turn; a RowError in place of a record is a rejection.

    With dry_run everything is done and counted as for real, then rolled back.
    """
    summary = ImportSummary()
    seen: dict[uuid.UUID, str] = {}
    # A real run commits service by service (each in service_record_upsert's transaction);
    # a dry run holds them all in one and rolls it back.
    try:
        with transaction.atomic() if dry_run else nullcontext():
            for where, record in records:
                if progress:
                    progress()
                if isinstance(record, RowError):
                    summary.rejected.append((where, str(record)))
                    continue
                if record.uuid in seen:
                    summary.rejected.append((where, f"the same service as {seen[record.uuid]}"))
                    continue
                seen[record.uuid] = where
                try:
                    check_record(record)
                    result = service_record_upsert(record=record)
                except RowError as exc:
                    summary.rejected.append((where, str(exc)))
                    continue
                except (IntegrityError, DataError) as exc:
                    # Rolled back with the record's own transaction; the rest go on.
                    summary.rejected.append((where, f"the database refused it: {exc}"[:300]))
                    continue
                setattr(summary, result, getattr(summary, result) + 1)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return summary
