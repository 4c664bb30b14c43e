"""London demo data, the definitions: who provides what, where, when and with what room.

The data lives in files under directory/data/demo/ (described in its README); this module
reads them once, at import, into the shapes directory/demo.py builds rows from, and derives
each demo service from a borough deterministically. generate_services reuses the hours,
capacity and postcode pieces.

Everything is made up except London's geography: the boroughs, their ICSs and real outward
codes (the inward codes are invented). Names carry "(demo)", phone numbers come from
Ofcom's range reserved for drama (020 7946 0000-0999).
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from directory.models import BankHolidayHours, Borough, Capacity, Organisation, Role

DATA = Path(__file__).resolve().parent / "data" / "demo"
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a UK inward code may use


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _json(name: str):
    with open(DATA / name, encoding="utf-8") as file:
        return json.load(file)


def _yes(value: str) -> bool:
    return value == "yes"


# --- places ------------------------------------------------------------------------------

# Real outward codes inside each authority (inward codes are invented by the builders).
OUTWARD_CODES: dict[str, list[str]] = {}
for _row in _rows("outward_codes.csv"):
    OUTWARD_CODES.setdefault(_row["gss_code"], []).append(_row["outward_code"])
STREETS = [row["street"] for row in _rows("streets.csv")]
_LAYOUT = _json("layout.json")
PLACEMENT_RADIUS_KM: dict[str, float] = _LAYOUT["placement_radius_km"]
DEFAULT_PLACEMENT_RADIUS_KM: float = _LAYOUT["default_placement_radius_km"]

# --- opening hours and capacity ----------------------------------------------------------

# name -> [(weekday, opens, closes)]; closes <= opens runs overnight, 00:00-00:00 all day.
HOURS: dict[str, list[tuple[int, str, str]]] = {}
for _row in _rows("hours.csv"):
    HOURS.setdefault(_row["hours"], []).append(
        (int(_row["weekday"]), _row["opens"], _row["closes"])
    )

# (status, slots, live): live scenarios are refreshed by a re-run once they have lapsed,
# so a demo started days later still shows live capacity; "expired" stays expired.
CAPACITY_SCENARIOS: dict[str, tuple[str, int | None, bool]] = {
    row["scenario"]: (
        Capacity(row["status"]),
        int(row["slots"]) if row["slots"] else None,
        _yes(row["live"]),
    )
    for row in _rows("capacity_scenarios.csv")
}
CAPACITY_CYCLE: list[str] = _LAYOUT["capacity_cycle"]
DEMO_CAPACITY_HOURS: int = _LAYOUT["demo_capacity_hours"]

# --- organisations -----------------------------------------------------------------------

K = Organisation.Kind


@dataclass(frozen=True)
class OrganisationDef:
    ods_code: str
    name: str
    kind: str
    ics: str = ""
    borough_gss: str | None = None


# Per ICS: community health, acute hospitals, mental health, GP federation; then the
# London-wide providers and offices ("serves" London).
ICS_ORGANISATIONS: dict[str, dict[str, OrganisationDef]] = {}
LONDON_WIDE: dict[str, OrganisationDef] = {}
for _row in _rows("organisations.csv"):
    _organisation = OrganisationDef(
        _row["ods_code"], _row["name"], K(_row["kind"]), _row["ics"], _row["borough_gss"] or None
    )
    if _row["serves"] == "London":
        LONDON_WIDE[_row["provider"]] = _organisation
    else:
        ICS_ORGANISATIONS.setdefault(_row["serves"], {})[_row["provider"]] = _organisation

LAS_ODS = LONDON_WIDE["ambulance"].ods_code
PARTNER_ODS = ICS_ORGANISATIONS["NCL"]["community"].ods_code  # the demo partner's organisation
# Boroughs with a (fictional) acute hospital site: two per ICS, so that every ICS has an
# emergency department for the search's fallback.
HOSPITAL_BOROUGHS = {row["gss_code"] for row in _rows("hospital_boroughs.csv")}


def council_def(borough: Borough) -> OrganisationDef:
    name = (
        "City of London Corporation (demo)"
        if borough.gss_code == "E09000001"
        else f"{borough.name} Council (demo)"
    )
    return OrganisationDef(
        f"DLA{borough.gss_code[-2:]}", name, K.LOCAL_AUTHORITY, borough.ics, borough.gss_code
    )


# --- services ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceTemplate:
    """One kind of demo service; `{b}` in names is the borough's name."""

    name: str
    categories: tuple[str, ...]
    provider: str  # a key of ICS_ORGANISATIONS[ics] or LONDON_WIDE, or "council"
    hours: str
    description: str
    instructions: str
    min_age: int | None = None
    max_age: int | None = None
    sexes: tuple[str, ...] = ()
    covers_borough: bool = False
    covers_ics: bool = False
    bank_holidays: str = BankHolidayHours.NORMAL
    public_phone: bool = True
    site: str = "{b} Health Centre"
    inclusion: str = ""
    exclusion: str = ""
    closed_in_days: int | None = None  # a dated closure, counted from the first seed
    visits_at_home: bool = False


def _template(item: dict) -> ServiceTemplate:
    item = {**item, "categories": tuple(item["categories"]), "sexes": tuple(item.get("sexes", ()))}
    if "bank_holidays" in item:
        item["bank_holidays"] = BankHolidayHours(item["bank_holidays"])
    return ServiceTemplate(**item)


# Every borough has the first group, one of the mental-health pair, three of the rotating
# ones, and the hospital services where HOSPITAL_BOROUGHS has a site.
_TEMPLATES = {
    group: [_template(item) for item in items]
    for group, items in _json("service_templates.json").items()
}
EVERY_BOROUGH = _TEMPLATES["every_borough"]
MENTAL_HEALTH = _TEMPLATES["mental_health"]
ROTATING = _TEMPLATES["rotating"]
HOSPITAL = _TEMPLATES["hospital"]


@dataclass
class ServiceDef:
    """A demo service with everything needed to create it."""

    template: ServiceTemplate
    borough: Borough
    organisation: OrganisationDef
    name: str
    site: str
    address: str
    postcode: str
    latitude: float
    longitude: float
    capacity: str
    phone: str
    professional_phone: str
    covered_gss: list[str] = field(default_factory=list)


def _place(borough: Borough, key: str, radius_km: float) -> tuple[float, float]:
    """A point within radius_km of the borough's centre, always the same for the same key."""
    rng = random.Random(key)
    distance = radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    lat = borough.centre_latitude + distance * math.cos(bearing) / 111.32
    lon = borough.centre_longitude + distance * math.sin(bearing) / (
        111.32 * math.cos(math.radians(borough.centre_latitude))
    )
    return round(lat, 6), round(lon, 6)


def invent_postcode(rng: random.Random, gss_code: str) -> str:
    outward = rng.choice(OUTWARD_CODES[gss_code])
    return f"{outward} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def service_defs(boroughs: list[Borough]) -> list[ServiceDef]:
    """Every demo service, derived deterministically from the borough list."""
    by_ics: dict[str, list[str]] = {}
    for b in boroughs:
        by_ics.setdefault(b.ics, []).append(b.gss_code)
    defs: list[ServiceDef] = []
    used_postcodes: set[str] = set()
    sites: dict[tuple[str, str], tuple[str, str, float, float]] = {}
    for index, borough in enumerate(sorted(boroughs, key=lambda b: b.gss_code)):
        templates = list(EVERY_BOROUGH)
        templates.append(MENTAL_HEALTH[index % 2])
        templates += [ROTATING[(3 * index + j) % len(ROTATING)] for j in range(3)]
        if borough.gss_code in HOSPITAL_BOROUGHS:
            templates += HOSPITAL
        for template in templates:
            org = _provider(template.provider, borough)
            name = template.name.format(b=borough.name)
            site = template.site.format(b=borough.name)
            site_key = (org.ods_code, site)
            if site_key not in sites:
                rng = random.Random(f"demo:{borough.gss_code}:{site}")
                postcode = invent_postcode(rng, borough.gss_code)
                while postcode in used_postcodes:
                    postcode = invent_postcode(rng, borough.gss_code)
                used_postcodes.add(postcode)
                radius = PLACEMENT_RADIUS_KM.get(borough.gss_code, DEFAULT_PLACEMENT_RADIUS_KM)
                lat, lon = _place(borough, f"demo:{borough.gss_code}:{site}", radius)
                street = STREETS[rng.randrange(len(STREETS))]
                address = f"{rng.randint(1, 240)} {street}, {borough.name}, London"
                sites[site_key] = (address, postcode, lat, lon)
            address, postcode, lat, lon = sites[site_key]
            number = len(defs)
            if template.covers_ics:
                covered = by_ics[borough.ics]
            elif template.covers_borough:
                covered = [borough.gss_code]
            else:
                covered = []
            capacity = CAPACITY_CYCLE[number % len(CAPACITY_CYCLE)]
            if "emergency-department" in template.categories:
                capacity = "amber" if number % 2 else "green"
            defs.append(
                ServiceDef(
                    template=template,
                    borough=borough,
                    organisation=org,
                    name=name,
                    site=site,
                    address=address,
                    postcode=postcode,
                    latitude=lat,
                    longitude=lon,
                    capacity=capacity,
                    # Ofcom's drama range: 0000-0499 public, 0500-0999 professional lines.
                    phone=f"020 7946 {number % 500:04d}" if template.public_phone else "",
                    professional_phone=f"020 7946 {500 + number % 500:04d}",
                    covered_gss=covered,
                )
            )
    return defs


def _provider(key: str, borough: Borough) -> OrganisationDef:
    if key == "council":
        return council_def(borough)
    if key in LONDON_WIDE:
        return LONDON_WIDE[key]
    return ICS_ORGANISATIONS[borough.ics][key]


def organisation_defs(boroughs: list[Borough]) -> list[OrganisationDef]:
    defs = list(LONDON_WIDE.values())
    for per_ics in ICS_ORGANISATIONS.values():
        defs += per_ics.values()
    defs += [council_def(b) for b in boroughs]
    return defs


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    organisation_ods: str
    is_staff: bool = False
    first_name: str = ""
    last_name: str = ""


DEMO_USERS = [
    DemoUser(
        row["username"],
        Role(row["role"]),
        row["organisation_ods"],
        is_staff=_yes(row["is_staff"]),
        first_name=row["first_name"],
        last_name=row["last_name"],
    )
    for row in _rows("users.csv")
]
