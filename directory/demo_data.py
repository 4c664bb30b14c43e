"""London demo data, the definitions: who provides what, where, when and with what room.

Everything here is made up except London's geography: the boroughs, their ICSs and real
outward codes (the inward codes are invented). Names carry "(demo)", phone numbers come
from Ofcom's range reserved for drama (020 7946 0000-0999). directory/demo.py turns these
into rows; generate_services reuses the hours, capacity and postcode pieces.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from directory.models import BankHolidayHours, Borough, Capacity, Organisation, Role

# Real outward codes inside each authority (inward codes are invented by the builders).
OUTWARD_CODES: dict[str, list[str]] = {
    "E09000001": ["EC1A", "EC2V", "EC3M", "EC4M", "EC2M"],
    "E09000002": ["RM8", "RM9", "RM10", "IG11"],
    "E09000003": ["N3", "N11", "N12", "NW4", "NW7", "EN5"],
    "E09000004": ["DA5", "DA6", "DA7", "DA14", "DA15", "DA16"],
    "E09000005": ["NW10", "HA0", "HA9", "NW2"],
    "E09000006": ["BR1", "BR2", "BR3", "BR5", "BR6"],
    "E09000007": ["NW1", "NW3", "NW5", "NW6", "WC1H"],
    "E09000008": ["CR0", "CR2", "CR7", "SE25"],
    "E09000009": ["W5", "W13", "UB1", "UB6", "W3"],
    "E09000010": ["EN1", "EN2", "EN3", "N9", "N13", "N21"],
    "E09000011": ["SE10", "SE18", "SE9", "SE3", "SE7"],
    "E09000012": ["E8", "E5", "E9", "N16"],
    "E09000013": ["W6", "W12", "W14", "SW6"],
    "E09000014": ["N8", "N15", "N17", "N22", "N10"],
    "E09000015": ["HA1", "HA2", "HA3", "HA7"],
    "E09000016": ["RM1", "RM3", "RM7", "RM11", "RM12", "RM14"],
    "E09000017": ["UB8", "UB10", "UB3", "UB4", "HA4"],
    "E09000018": ["TW3", "TW4", "TW5", "TW7", "TW8", "W4"],
    "E09000019": ["N1", "N7", "N19", "N5", "EC1V"],
    "E09000020": ["W8", "W10", "W11", "SW3", "SW5", "SW10"],
    "E09000021": ["KT1", "KT2", "KT3", "KT6"],
    "E09000022": ["SE11", "SW2", "SW9", "SE27"],
    "E09000023": ["SE4", "SE6", "SE13", "SE14", "SE23"],
    "E09000024": ["SW19", "SW20", "CR4", "SM4"],
    "E09000025": ["E6", "E7", "E13", "E15", "E16"],
    "E09000026": ["IG1", "IG2", "IG3", "IG6"],
    "E09000027": ["TW9", "TW10", "TW1", "TW2", "SW14"],
    "E09000028": ["SE1", "SE5", "SE15", "SE16", "SE22"],
    "E09000029": ["SM1", "SM2", "SM3", "SM5", "SM6"],
    "E09000030": ["E1", "E3", "E14", "E1W"],
    "E09000031": ["E4", "E10", "E11", "E17"],
    "E09000032": ["SW11", "SW12", "SW15", "SW17", "SW18"],
    "E09000033": ["SW1P", "SW1V", "W2", "W9", "NW8"],
}
# The City is small: keep its demo sites close to the centre.
PLACEMENT_RADIUS_KM = {"E09000001": 0.5}
DEFAULT_PLACEMENT_RADIUS_KM = 1.4
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a UK inward code may use
STREETS = [
    "Linden Road",
    "Mulberry Street",
    "Foundry Lane",
    "Orchard Row",
    "Canal Walk",
    "Chapel Street",
    "Victoria Parade",
    "Beacon Road",
    "Hawthorn Avenue",
    "Weavers Yard",
    "Cedar Close",
    "Market Approach",
]

# --- opening hours -----------------------------------------------------------------------

WEEKDAYS = range(0, 5)
WEEKEND = (5, 6)
ALL_DAYS = range(7)
MIDNIGHT = "00:00"

# name -> [(weekday, opens, closes)]; closes <= opens runs overnight, 00:00-00:00 all day.
HOURS: dict[str, list[tuple[int, str, str]]] = {
    "24/7": [(d, MIDNIGHT, MIDNIGHT) for d in ALL_DAYS],
    "office": [(d, "09:00", "17:00") for d in WEEKDAYS],
    "evenings": [(d, "18:00", "23:00") for d in ALL_DAYS],
    "overnight": [(d, "20:00", "08:00") for d in ALL_DAYS],
    "weekend": [(d, "09:00", "17:00") for d in WEEKEND],
    "extended": [(d, "08:00", "20:00") for d in ALL_DAYS],
    "utc": [(d, "08:00", "22:00") for d in ALL_DAYS],
    "shop": [(d, "09:00", "18:30") for d in range(6)] + [(6, "10:00", "16:00")],
    "weekday-long": [(d, "08:00", "20:00") for d in WEEKDAYS],
    # Out of hours: weekday nights, then the weekend through to Monday morning.
    "out-of-hours": [(d, "18:30", "08:00") for d in range(4)]
    + [(4, "18:30", MIDNIGHT)]
    + [(d, MIDNIGHT, MIDNIGHT) for d in WEEKEND]
    + [(0, MIDNIGHT, "08:00")],
    "duty": [(d, "17:00", "09:00") for d in range(4)]
    + [(4, "17:00", MIDNIGHT)]
    + [(d, MIDNIGHT, MIDNIGHT) for d in WEEKEND]
    + [(0, MIDNIGHT, "09:00")],
}

# --- capacity ----------------------------------------------------------------------------

# (status, slots, live): live scenarios are refreshed by a re-run once they have lapsed,
# so a demo started days later still shows live capacity; "expired" stays expired.
CAPACITY_SCENARIOS: dict[str, tuple[str, int | None, bool]] = {
    "green": (Capacity.GREEN, None, True),
    "green-slots": (Capacity.GREEN, 4, True),
    "amber": (Capacity.AMBER, None, True),
    "amber-slots": (Capacity.AMBER, 1, True),
    "red": (Capacity.RED, 0, True),
    "expired": (Capacity.GREEN, 2, False),
    "unknown": (Capacity.UNKNOWN, None, False),
}
CAPACITY_CYCLE = [
    "green",
    "green-slots",
    "amber",
    "green",
    "red",
    "expired",
    "amber-slots",
    "unknown",
    "green",
]
DEMO_CAPACITY_HOURS = 24

# --- organisations -----------------------------------------------------------------------

LAS_ODS = "RRU"
PARTNER_ODS = "DMNC1"  # North Thames Community Health: the demo partner's organisation
K = Organisation.Kind


@dataclass(frozen=True)
class OrganisationDef:
    ods_code: str
    name: str
    kind: str
    ics: str = ""
    borough_gss: str | None = None


# Per ICS: community health, acute hospitals, mental health, GP federation.
ICS_ORGANISATIONS: dict[str, dict[str, OrganisationDef]] = {
    "NCL": {
        "community": OrganisationDef(
            PARTNER_ODS, "North Thames Community Health (demo)", K.NHS_TRUST, "NCL", "E09000007"
        ),
        "acute": OrganisationDef("DMNC2", "Fleet Valley Hospitals (demo)", K.NHS_TRUST, "NCL"),
        "mental": OrganisationDef(
            "DMNC3", "Northern Heights Mental Health (demo)", K.NHS_TRUST, "NCL"
        ),
        "gp": OrganisationDef("DMNC4", "North Central GP Alliance (demo)", K.GP_FEDERATION, "NCL"),
    },
    "NEL": {
        "community": OrganisationDef(
            "DMNE1", "Lea Marshes Community Care (demo)", K.NHS_TRUST, "NEL"
        ),
        "acute": OrganisationDef(
            "DMNE2", "Eastgate University Hospitals (demo)", K.NHS_TRUST, "NEL"
        ),
        "mental": OrganisationDef("DMNE3", "Riverside Mind Partnership (demo)", K.NHS_TRUST, "NEL"),
        "gp": OrganisationDef(
            "DMNE4", "Docklands and Forest GP Federation (demo)", K.GP_FEDERATION, "NEL"
        ),
    },
    "NWL": {
        "community": OrganisationDef(
            "DMNW1", "Westway Community Health (demo)", K.NHS_TRUST, "NWL"
        ),
        "acute": OrganisationDef("DMNW2", "Grand Union Hospitals (demo)", K.NHS_TRUST, "NWL"),
        "mental": OrganisationDef("DMNW3", "Colne Valley Mental Health (demo)", K.NHS_TRUST, "NWL"),
        "gp": OrganisationDef("DMNW4", "West London GP Collective (demo)", K.GP_FEDERATION, "NWL"),
    },
    "SEL": {
        "community": OrganisationDef(
            "DMSE1", "Southbank Community Health (demo)", K.NHS_TRUST, "SEL"
        ),
        "acute": OrganisationDef("DMSE2", "Ravensbourne Hospitals (demo)", K.NHS_TRUST, "SEL"),
        "mental": OrganisationDef(
            "DMSE3", "Southern Lights Mental Health (demo)", K.NHS_TRUST, "SEL"
        ),
        "gp": OrganisationDef("DMSE4", "South East GP Cooperative (demo)", K.GP_FEDERATION, "SEL"),
    },
    "SWL": {
        "community": OrganisationDef("DMSW1", "Wandle Community Health (demo)", K.NHS_TRUST, "SWL"),
        "acute": OrganisationDef("DMSW2", "Hogsmill Hospitals (demo)", K.NHS_TRUST, "SWL"),
        "mental": OrganisationDef(
            "DMSW3", "Beverley Brook Mental Health (demo)", K.NHS_TRUST, "SWL"
        ),
        "gp": OrganisationDef("DMSW4", "South West GP Partnership (demo)", K.GP_FEDERATION, "SWL"),
    },
}
LONDON_WIDE: dict[str, OrganisationDef] = {
    "hospice": OrganisationDef("DMV01", "Candlelight Hospice Network (demo)", K.VOLUNTARY),
    "cafe": OrganisationDef("DMV02", "Safe Harbour Crisis Cafes (demo)", K.VOLUNTARY),
    "recovery": OrganisationDef("DMV03", "Second Chance Recovery (demo)", K.VOLUNTARY),
    "pharmacy": OrganisationDef("DMP01", "High Street Pharmacy Group (demo)", K.PRIVATE),
    "ambulance": OrganisationDef(LAS_ODS, "London Ambulance Service (demo)", K.AMBULANCE_TRUST),
    "icb": OrganisationDef("DMQ01", "North Central London ICB (demo)", K.ICB, "NCL", "E09000007"),
    "operations": OrganisationDef("DMQ00", "London Urgent Care Directory (demo)", K.ICB),
}
# Boroughs with a (fictional) acute hospital site: two per ICS, so that every ICS has an
# emergency department for the search's fallback.
HOSPITAL_BOROUGHS = {
    "E09000007",  # Camden (NCL)
    "E09000003",  # Barnet (NCL)
    "E09000030",  # Tower Hamlets (NEL)
    "E09000025",  # Newham (NEL)
    "E09000033",  # Westminster (NWL)
    "E09000009",  # Ealing (NWL)
    "E09000028",  # Southwark (SEL)
    "E09000011",  # Greenwich (SEL)
    "E09000032",  # Wandsworth (SWL)
    "E09000008",  # Croydon (SWL)
}


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


EVERY_BOROUGH = [
    ServiceTemplate(
        "{b} Urgent Community Response",
        ("urgent-community-response", "falls"),
        "community",
        "extended",
        "Two-hour urgent community response: nurses and therapists at home.",
        "Call the professional line with the patient's address and NEWS2; the team "
        "confirms within 15 minutes and attends within two hours.",
        min_age=18,
        covers_borough=True,
        public_phone=False,
        site="{b} Community Services Hub",
        inclusion="Adults at home who are medically stable; fallers without serious injury.",
        exclusion="Suspected fracture, head injury on anticoagulants, NEWS2 of 7 or more.",
        visits_at_home=True,
    ),
    ServiceTemplate(
        "{b} Emergency Duty Team",
        ("social-care",),
        "council",
        "duty",
        "Out-of-hours adult and children's social care for the borough.",
        "Refer for urgent care packages, carer breakdown and safeguarding concerns.",
        covers_borough=True,
        public_phone=False,
        site="{b} Civic Centre",
    ),
]
MENTAL_HEALTH = [
    ServiceTemplate(
        "{b} Mental Health Crisis Team",
        ("mental-health-crisis",),
        "mental",
        "24/7",
        "Crisis assessment and home treatment for adults in mental-health crisis.",
        "Phone the professional line for a joint assessment; a clinician calls back "
        "within 30 minutes.",
        min_age=18,
        covers_ics=True,
        public_phone=False,
        site="{b} Crisis Hub",
    ),
    ServiceTemplate(
        "{b} Crisis Cafe",
        ("mental-health-crisis",),
        "cafe",
        "evenings",
        "A calm evening space with peer support workers and a mental-health nurse.",
        "Walk-in or crew referral; no alcohol or drug intoxication.",
        min_age=16,
        site="{b} Crisis Cafe",
        exclusion="Intoxication; immediate risk to life.",
    ),
]
ROTATING = [
    ServiceTemplate(
        "{b} Falls Response Service",
        ("falls",),
        "community",
        "utc",
        "Assessment at home for people who have fallen and are not seriously injured.",
        "Refer after a non-injurious fall; the team visits within four hours.",
        min_age=50,
        covers_borough=True,
        visits_at_home=True,
    ),
    ServiceTemplate(
        "{b} Community Pharmacy",
        ("pharmacy",),
        "pharmacy",
        "shop",
        "Urgent repeat medicines and minor illness advice.",
        "Send the referral; the pharmacist calls the patient within the hour.",
        bank_holidays=BankHolidayHours.SUNDAY,
        site="{b} Pharmacy",
        closed_in_days=5,
    ),
    ServiceTemplate(
        "{b} District Nursing",
        ("district-nursing",),
        "community",
        "24/7",
        "Community nursing at home: catheters, wounds, end-of-life care, medicines.",
        "Refer for housebound patients; the night service covers urgent visits only.",
        min_age=18,
        covers_borough=True,
        public_phone=False,
        visits_at_home=True,
    ),
    ServiceTemplate(
        "{b} Frailty Hospital at Home",
        ("frailty",),
        "acute",
        "office",
        "Consultant-led frailty assessment and hospital-level care at home.",
        "Call the frailty consultant of the day before conveying a frail older person.",
        min_age=65,
        bank_holidays=BankHolidayHours.CLOSED,
        public_phone=False,
        site="{b} Frailty Unit",
        inclusion="Clinical Frailty Scale 5 or more.",
        visits_at_home=True,
    ),
    ServiceTemplate(
        "{b} GP Out of Hours",
        ("gp-out-of-hours",),
        "gp",
        "out-of-hours",
        "GP appointments and home visits when surgeries are closed.",
        "Refer with the reason for the visit; home visits triaged within an hour.",
        site="{b} Urgent Care Centre",
    ),
    ServiceTemplate(
        "{b} Hospice at Home",
        ("end-of-life",),
        "hospice",
        "24/7",
        "Palliative care team supporting people to die at home.",
        "For patients on the palliative care register; check the ReSPECT form.",
        min_age=18,
        covers_borough=True,
        public_phone=False,
        site="{b} Hospice",
        visits_at_home=True,
    ),
    ServiceTemplate(
        "{b} Drug and Alcohol Service",
        ("alcohol-and-drugs",),
        "recovery",
        "weekend",
        "Weekend drop-in for drug and alcohol advice and recovery support.",
        "Refer people who are safe to leave and want support.",
        min_age=18,
        site="{b} Recovery Centre",
    ),
    ServiceTemplate(
        "{b} Urgent Treatment Centre",
        ("urgent-treatment-centre",),
        "gp",
        "utc",
        "Walk-in urgent treatment for minor injuries and illnesses.",
        "Send the referral and convey or advise the patient to attend.",
        site="{b} Urgent Care Centre",
    ),
    ServiceTemplate(
        "{b} Children's Community Nursing",
        ("district-nursing", "urgent-community-response"),
        "community",
        "office",
        "Nursing at home for children and young people.",
        "Refer children who can be cared for at home with a parent present.",
        max_age=17,
        min_age=0,
        bank_holidays=BankHolidayHours.CLOSED,
        covers_borough=True,
        public_phone=False,
        site="{b} Children's Centre",
        closed_in_days=9,
        visits_at_home=True,
    ),
    ServiceTemplate(
        "{b} Night Sobering Centre",
        ("alcohol-and-drugs",),
        "recovery",
        "overnight",
        "Overnight safe space for intoxicated adults who do not need the ED.",
        "Crew handover at the door; the patient must be able to walk with help.",
        min_age=18,
        site="{b} Night Centre",
        exclusion="Head injury, GCS below 14, suspected overdose.",
    ),
    ServiceTemplate(
        "{b} Weekday Wound and Catheter Clinic",
        ("district-nursing",),
        "community",
        "weekday-long",
        "Nurse-led clinic for wounds, dressings and catheter problems.",
        "Book through the referral; same-day slots kept for crews.",
        min_age=18,
        bank_holidays=BankHolidayHours.CLOSED,
    ),
]
HOSPITAL = [
    ServiceTemplate(
        "{b} Hospital Emergency Department",
        ("emergency-department",),
        "acute",
        "24/7",
        "Type 1 emergency department.",
        "Pre-alert through the usual channel for time-critical patients.",
        site="{b} Hospital (demo site)",
    ),
    ServiceTemplate(
        "{b} Hospital Same Day Emergency Care",
        ("same-day-emergency-care",),
        "acute",
        "weekday-long",
        "SDEC: assessment and treatment without admission.",
        "Call the SDEC coordinator before conveying; last referrals 18:00.",
        min_age=16,
        public_phone=False,
        site="{b} Hospital (demo site)",
    ),
    ServiceTemplate(
        "{b} Hospital Maternity Triage",
        ("maternity",),
        "acute",
        "24/7",
        "Maternity assessment for pregnancy problems after 16 weeks and up to 6 weeks after birth.",
        "Phone the triage midwife with gestation and symptoms.",
        min_age=16,
        max_age=55,
        sexes=("female",),
        site="{b} Hospital (demo site)",
    ),
]


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
    DemoUser("demo-crew", Role.CREW, LAS_ODS, first_name="Casey", last_name="Crew (demo)"),
    DemoUser(
        "demo-partner",
        Role.PARTNER,
        PARTNER_ODS,
        is_staff=True,
        first_name="Parveen",
        last_name="Partner (demo)",
    ),
    DemoUser("demo-planner", Role.PLANNER, "DMQ01", first_name="Pat", last_name="Planner (demo)"),
    DemoUser(
        "demo-operator",
        Role.OPERATOR,
        "DMQ00",
        is_staff=True,
        first_name="Olu",
        last_name="Operator (demo)",
    ),
]
