"""Reading an HSDS 3.0 export into ServiceRecords for directory.imports.

Takes what /hsds/services?full=true answers (one page, or a list of pages) or a plain
list of full service records, from a file or a URL (fetched through integrations.http,
paging on until the last page). frontdoor's own facts come back from the attributes
directory.hsds.mapping writes; a foreign feed's categories are matched by term code or
name against frontdoor's categories.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from directory import reference
from directory.hsds.mapping import GSS_URI
from directory.hsds.schedules import BYDAY
from directory.imports import (
    LocationRecord,
    OrganisationRecord,
    RowError,
    ServiceRecord,
    borough_code,
)
from directory.models import BankHolidayHours, Category, Organisation

MAX_PAGES = 10_000


class HsdsSourceError(Exception):
    """The source as a whole cannot be read (missing file, bad JSON, refused URL)."""


def hsds_services_in(data: Any) -> list[dict]:
    if isinstance(data, dict) and "contents" in data:
        return list(data["contents"])
    if isinstance(data, dict) and "id" in data and "name" in data:
        return [data]
    if isinstance(data, list):
        services: list[dict] = []
        for item in data:
            services.extend(hsds_services_in(item) if isinstance(item, dict | list) else [item])
        return services
    raise HsdsSourceError("not an HSDS export: expected a page with contents or a list of services")


def _fetch(url: str) -> Any:
    from integrations import http

    result = http.get(url)
    if result.error or result.status != 200:
        raise HsdsSourceError(f"{url}: {result.error or f'HTTP {result.status}'}")
    try:
        return json.loads(result.body)
    except ValueError as exc:
        raise HsdsSourceError(f"{url}: not JSON ({exc})") from None


def _with_params(url: str, **params: Any) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({key: str(value) for key, value in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query)))


def hsds_load(source: str) -> list[dict]:
    """Every service record in a file or at a URL (a /services listing is paged through)."""
    if source.startswith(("http://", "https://")):
        services: list[dict] = []
        for page in range(1, MAX_PAGES):
            data = _fetch(_with_params(source, full="true", page=page, per_page=200))
            services.extend(hsds_services_in(data))
            if not isinstance(data, dict) or data.get("last_page", True):
                break
        return services
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise HsdsSourceError(f"{source}: {exc.strerror or exc}") from None
    try:
        return hsds_services_in(json.loads(text))
    except ValueError as exc:
        raise HsdsSourceError(f"{source}: not JSON ({exc})") from None


# --- one service ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise RowError(f"{what} id {value!r} is not a UUID") from None


def _time(value: Any, what: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise RowError(f"{what} {value!r} is not a time (HH:MM)") from None


def _age(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RowError(f"{what} {value!r} is not a whole number") from None


def _categories(attributes: list[dict]) -> list[str]:
    by_name = {c.name.lower(): c.code for c in Category.objects.all()}
    codes = set(reference.category_ids_by_code())
    found: list[str] = []
    for attribute in attributes:
        term = attribute.get("taxonomy_term") or {}
        taxonomy = term.get("taxonomy") or ""
        if taxonomy == "frontdoor-service-facts":
            continue
        for candidate in (term.get("code"), attribute.get("value"), term.get("name")):
            text = _text(candidate)
            code = text if text in codes else by_name.get(text.lower())
            if code and code not in found:
                found.append(code)
                break
    return found


def _facts(attributes: list[dict]) -> dict[str, str]:
    return {
        _text((a.get("taxonomy_term") or {}).get("code")): _text(a.get("value"))
        for a in attributes
        if (a.get("taxonomy_term") or {}).get("taxonomy") == "frontdoor-service-facts"
    }


def _schedules(schedules: list[dict]) -> tuple[list, list]:
    spans, exceptions = [], []
    for schedule in schedules:
        opens, closes = schedule.get("opens_at"), schedule.get("closes_at")
        if (schedule.get("freq") or "").upper() == "WEEKLY":
            if not opens or not closes:
                raise RowError("a weekly schedule has no opens_at or closes_at")
            for day in _text(schedule.get("byday")).upper().split(","):
                if day.strip() not in BYDAY:
                    raise RowError(f"a weekly schedule has byday {day!r}")
                spans.append(
                    (
                        BYDAY.index(day.strip()),
                        _time(opens, "opens_at"),
                        _time(closes, "closes_at"),
                    )
                )
        elif schedule.get("valid_from"):
            try:
                day = date.fromisoformat(str(schedule["valid_from"]))
            except ValueError:
                raise RowError(f"valid_from {schedule['valid_from']!r} is not a date") from None
            if schedule.get("valid_to") not in (None, schedule["valid_from"]):
                raise RowError("a dated schedule must cover one day (valid_from = valid_to)")
            closed = not opens
            exceptions.append(
                (
                    day,
                    closed,
                    None if closed else _time(opens, "opens_at"),
                    None if closed else _time(closes, "closes_at"),
                    _text(schedule.get("notes")),
                )
            )
    return spans, exceptions


def _organisation(raw: dict) -> OrganisationRecord:
    identifiers = raw.get("organization_identifiers") or []
    ods = next(
        (
            _text(i.get("identifier"))
            for i in identifiers
            if _text(i.get("identifier_scheme")).upper() == "ODS"
        ),
        "",
    )
    org_uuid = _uuid(raw.get("id"), "organization")
    kind = _text(raw.get("legal_status")) or None
    return OrganisationRecord(
        uuid=org_uuid,
        # Organisations without an ODS code get a stable stand-in from their id.
        ods_code=ods or ("X" + org_uuid.hex[:9].upper()),
        name=_text(raw.get("name")),
        kind=kind if kind in Organisation.Kind.values else None,
    )


def _location(raw: dict) -> LocationRecord:
    addresses = raw.get("addresses") or []
    address = next((a for a in addresses if a.get("address_type") == "physical"), None) or (
        addresses[0] if addresses else {}
    )
    latitude, longitude = raw.get("latitude"), raw.get("longitude")
    if latitude is None or longitude is None:
        raise RowError("the location has no latitude and longitude")
    try:
        latitude, longitude = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise RowError("the location's latitude or longitude is not a number") from None
    line = ", ".join(
        _text(address.get(k)) for k in ("address_1", "address_2") if _text(address.get(k))
    )
    return LocationRecord(
        uuid=_uuid(raw.get("id"), "location"),
        name=_text(raw.get("name"))[:200],
        address=line[:300],
        postcode=_text(address.get("postal_code")),
        latitude=latitude,
        longitude=longitude,
        borough_gss=borough_code(
            _text(raw.get("external_identifier")) or _text(address.get("region")),
            latitude=latitude,
            longitude=longitude,
        ),
    )


def service_record(raw: Any) -> ServiceRecord:
    """One full HSDS service record as a ServiceRecord; RowError says what is wrong."""
    if not isinstance(raw, dict):
        raise RowError("not a service record")
    organisation = raw.get("organization")
    if not isinstance(organisation, dict):
        raise RowError("no organization (import the full records: ?full=true)")
    at_locations = raw.get("service_at_locations") or []
    if not at_locations or not isinstance(at_locations[0].get("location"), dict):
        raise RowError("no service_at_locations with a location")
    attributes = raw.get("attributes") or []
    facts = _facts(attributes)
    spans, exceptions = _schedules(raw.get("schedules") or [])
    phone = next((_text(p.get("number")) for p in raw.get("phones") or [] if p.get("number")), "")
    areas = [
        borough_code(
            _text(area.get("uri")).removeprefix(GSS_URI) if area.get("uri") else area.get("name")
        )
        for area in raw.get("service_areas") or []
    ]
    return ServiceRecord(
        uuid=_uuid(raw.get("id"), "service"),
        name=_text(raw.get("name")),
        public_name=_text(raw.get("alternate_name"))[:200],
        description=_text(raw.get("description")),
        active=_text(raw.get("status") or "active") == "active",
        phone=phone,
        referral_instructions=_text(raw.get("application_process")),
        min_age=_age(raw.get("minimum_age"), "minimum_age"),
        max_age=_age(raw.get("maximum_age"), "maximum_age"),
        sexes=[s for s in facts.get("sexes", "").split(",") if s],
        inclusion_criteria=facts.get("inclusion-criteria", ""),
        exclusion_criteria=facts.get("exclusion-criteria", ""),
        bank_holiday_hours=facts.get("bank-holiday-hours") or BankHolidayHours.NORMAL,
        categories=_categories(attributes),
        boroughs_covered=areas,
        organisation=_organisation(organisation),
        location=_location(at_locations[0]["location"]),
        spans=spans,
        exceptions=exceptions,
    )


def hsds_records(services: list[dict]) -> Iterator[tuple[str, ServiceRecord | RowError]]:
    """(where, record or why not) for each service, `where` naming it for the report."""
    for index, raw in enumerate(services, start=1):
        name = raw.get("name") if isinstance(raw, dict) else None
        where = f"record {index}" + (f" ({name})" if name else "")
        try:
            yield where, service_record(raw)
        except RowError as exc:
            yield where, exc
