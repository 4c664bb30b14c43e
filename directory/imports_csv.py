"""Reading a services CSV into ServiceRecords for directory.imports.

One row per service at its location; the columns are documented in the README
("Imports"). Lists inside a cell are separated by ";". A row's problems are reported
with its line number in the file (the header is line 1).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date, time
from typing import IO

from directory.imports import (
    LocationRecord,
    OrganisationRecord,
    RowError,
    ServiceRecord,
    borough_code,
    external_uuid,
)
from directory.models import BankHolidayHours

REQUIRED = (
    "service_id",
    "name",
    "categories",
    "organisation_ods",
    "organisation_name",
    "address",
    "postcode",
    "latitude",
    "longitude",
)
COLUMNS = (
    *REQUIRED,
    "public_name",
    "description",
    "organisation_kind",
    "active",
    "phone",
    "referral_instructions",
    "min_age",
    "max_age",
    "sexes",
    "inclusion_criteria",
    "exclusion_criteria",
    "boroughs_covered",
    "bank_holiday_hours",
    "location_id",
    "location_name",
    "borough",
    "hours",
    "exceptions",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\w{3})(?:-(\w{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")
_EXCEPTION = re.compile(
    r"^(\d{4}-\d{2}-\d{2})\s+(closed|(\d{1,2}:\d{2})-(\d{1,2}:\d{2}))(?:\s+(.*))?$"
)


class CsvHeaderError(Exception):
    """The file as a whole cannot be read: missing required columns."""


def _items(cell: str) -> list[str]:
    return [item.strip() for item in (cell or "").split(";") if item.strip()]


def _time(text: str) -> time:
    try:
        return time.fromisoformat(text.zfill(5))
    except ValueError:
        raise RowError(f"{text!r} is not a time (HH:MM)") from None


def parse_hours(cell: str) -> list[tuple[int, time, time]]:
    """'Mon-Fri 09:00-17:00; Sat 22:00-06:00' -> weekly spans (overnight as in the model)."""
    spans = []
    for item in _items(cell):
        match = _SPAN.match(item)
        if not match or match[1].lower() not in DAYS or (match[2] and match[2].lower() not in DAYS):
            raise RowError(f"hours: {item!r} is not like 'Mon-Fri 09:00-17:00'")
        first = DAYS.index(match[1].lower())
        last = DAYS.index(match[2].lower()) if match[2] else first
        if last < first:
            raise RowError(f"hours: {item!r} runs backwards")
        opens, closes = _time(match[3]), _time(match[4])
        spans.extend((day, opens, closes) for day in range(first, last + 1))
    return spans


def parse_exceptions(cell: str) -> list[tuple[date, bool, time | None, time | None, str]]:
    """'2026-12-25 closed; 2026-12-26 10:00-14:00 Boxing Day' -> dated exceptions."""
    exceptions = []
    for item in _items(cell):
        match = _EXCEPTION.match(item)
        if not match:
            raise RowError(f"exceptions: {item!r} is not like '2026-12-25 closed'")
        try:
            day = date.fromisoformat(match[1])
        except ValueError:
            raise RowError(f"exceptions: {match[1]!r} is not a date") from None
        closed = match[2] == "closed"
        exceptions.append(
            (
                day,
                closed,
                None if closed else _time(match[3]),
                None if closed else _time(match[4]),
                (match[5] or "").strip(),
            )
        )
    return exceptions


def _number(row: dict, name: str, kind=float):
    text = (row.get(name) or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise RowError(f"{name}: {text!r} is not a number") from None


def _flag(row: dict, name: str, default: bool) -> bool:
    text = (row.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n"):
        return False
    raise RowError(f"{name}: {text!r} is not true or false")


def row_record(row: dict) -> ServiceRecord:
    """One CSV row as a ServiceRecord; RowError says what is wrong with it."""
    missing = [name for name in REQUIRED if not (row.get(name) or "").strip()]
    if missing:
        raise RowError(f"{missing[0]} is empty")
    latitude = _number(row, "latitude")
    longitude = _number(row, "longitude")
    service_uuid = external_uuid("service", row["service_id"])
    location_key = (row.get("location_id") or "").strip() or f"of-service:{service_uuid}"
    return ServiceRecord(
        uuid=service_uuid,
        name=row["name"].strip(),
        public_name=(row.get("public_name") or "").strip(),
        description=(row.get("description") or "").strip(),
        active=_flag(row, "active", True),
        phone=(row.get("phone") or "").strip(),
        referral_instructions=(row.get("referral_instructions") or "").strip(),
        min_age=_number(row, "min_age", int),
        max_age=_number(row, "max_age", int),
        sexes=[s.lower() for s in _items(row.get("sexes", ""))],
        inclusion_criteria=(row.get("inclusion_criteria") or "").strip(),
        exclusion_criteria=(row.get("exclusion_criteria") or "").strip(),
        bank_holiday_hours=(row.get("bank_holiday_hours") or "").strip().lower()
        or BankHolidayHours.NORMAL,
        categories=_items(row["categories"]),
        boroughs_covered=[borough_code(b) for b in _items(row.get("boroughs_covered", ""))],
        organisation=OrganisationRecord(
            uuid=None,
            ods_code=row["organisation_ods"].strip().upper(),
            name=row["organisation_name"].strip(),
            kind=(row.get("organisation_kind") or "").strip() or None,
        ),
        location=LocationRecord(
            uuid=external_uuid("location", location_key),
            name=(row.get("location_name") or "").strip(),
            address=row["address"].strip(),
            postcode=row["postcode"].strip(),
            latitude=latitude,
            longitude=longitude,
            borough_gss=borough_code(
                row.get("borough", ""), latitude=latitude, longitude=longitude
            ),
        ),
        spans=parse_hours(row.get("hours", "")),
        exceptions=parse_exceptions(row.get("exceptions", "")),
    )


def csv_records(stream: IO[str]) -> Iterator[tuple[str, ServiceRecord | RowError]]:
    """(line N, record or why not) for each row of an open CSV text stream."""
    reader = csv.DictReader(stream)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise CsvHeaderError(f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    for row in reader:
        where = f"line {reader.line_num}"
        try:
            yield where, row_record(row)
        except RowError as exc:
            yield where, exc
