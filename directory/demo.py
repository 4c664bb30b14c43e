"""London demo data, the builders: seed_demo() writes what directory/demo_data.py defines.

seed_demo() is idempotent and cheap to repeat (`make run` calls it every time): it reads
what is there in a handful of queries and writes only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from directory.demo_data import (
    CAPACITY_SCENARIOS,
    DEMO_CAPACITY_HOURS,
    DEMO_USERS,
    HOURS,
    OUTWARD_CODES,
    OrganisationDef,
    ServiceDef,
    organisation_defs,
    service_defs,
)
from directory.index import services_index_rebuild
from directory.models import (
    Borough,
    Capacity,
    Category,
    Location,
    OpeningException,
    OpeningSpan,
    Organisation,
    Postcode,
    Role,
    Service,
    User,
)

# --- builders ----------------------------------------------------------------------------


@dataclass
class SeedReport:
    organisations: int = 0
    users: int = 0
    locations: int = 0
    services: int = 0
    postcodes: int = 0
    capacity_refreshed: int = 0
    reindexed: int = 0

    def changed(self) -> bool:
        return any(vars(self).values())


def _wall(value: str) -> time:
    return time.fromisoformat(value)


def spans_for(service_id: int, hours: str) -> list[OpeningSpan]:
    return [
        OpeningSpan(service_id=service_id, weekday=d, opens=_wall(o), closes=_wall(c))
        for d, o, c in HOURS[hours]
    ]


def capacity_fields(scenario: str, now: datetime, user: User | None) -> dict:
    status, slots, live = CAPACITY_SCENARIOS[scenario]
    if status == Capacity.UNKNOWN:
        return {
            "capacity_status": Capacity.UNKNOWN,
            "capacity_slots": None,
            "capacity_updated_at": None,
            "capacity_expires_at": None,
            "capacity_updated_by": None,
        }
    if live:
        updated, expires = now, now + timedelta(hours=DEMO_CAPACITY_HOURS)
    else:  # set in the morning and never renewed: reads UNKNOWN
        updated, expires = now - timedelta(hours=6), now - timedelta(hours=2)
    return {
        "capacity_status": status,
        "capacity_slots": slots,
        "capacity_updated_at": updated,
        "capacity_expires_at": expires,
        "capacity_updated_by": user,
    }


def seed_demo(*, now: datetime | None = None, password: str | None = None) -> SeedReport:
    """Create whatever part of the London demo data is missing; change nothing else."""
    now = now or timezone.now()
    password = password if password is not None else settings.DEMO_PASSWORD
    report = SeedReport()
    boroughs = list(Borough.objects.order_by("gss_code"))
    if len(boroughs) != len(OUTWARD_CODES):
        raise RuntimeError("The borough table is incomplete: run `manage.py migrate` first.")
    by_gss = {b.gss_code: b for b in boroughs}

    with transaction.atomic():
        orgs = _ensure_organisations(organisation_defs(boroughs), by_gss, report)
        users = _ensure_users(orgs, password, report)
        defs = service_defs(boroughs)
        _ensure_services(defs, orgs, users, by_gss, now, report)
        _ensure_postcodes(defs, report)
    return report


def _ensure_organisations(
    defs: list[OrganisationDef], by_gss: dict[str, Borough], report: SeedReport
) -> dict[str, Organisation]:
    existing = {
        o.ods_code: o for o in Organisation.objects.filter(ods_code__in=[d.ods_code for d in defs])
    }
    missing = [
        Organisation(
            ods_code=d.ods_code,
            name=d.name,
            kind=d.kind,
            ics=d.ics,
            borough=by_gss.get(d.borough_gss) if d.borough_gss else None,
        )
        for d in defs
        if d.ods_code not in existing
    ]
    if missing:
        Organisation.objects.bulk_create(missing)
        report.organisations = len(missing)
        existing = {
            o.ods_code: o
            for o in Organisation.objects.filter(ods_code__in=[d.ods_code for d in defs])
        }
    return existing


def _ensure_users(
    orgs: dict[str, Organisation], password: str, report: SeedReport
) -> dict[str, User]:
    existing = {
        u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])
    }
    for d in DEMO_USERS:
        wanted = {
            "role": d.role,
            "organisation": orgs[d.organisation_ods],
            "is_staff": d.is_staff,
            "is_active": True,
        }
        user = existing.get(d.username)
        if user is None:
            user = User(
                username=d.username, first_name=d.first_name, last_name=d.last_name, **wanted
            )
            # Hashing is slow on purpose; an existing demo user keeps its password so a
            # re-run stays quick (delete the user to reset it).
            user.set_password(password)
            user.save()
            existing[d.username] = user
            report.users += 1
        elif any(getattr(user, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(user, k, v)
            user.save(update_fields=list(wanted))
            report.users += 1
    return existing


def _ensure_services(
    defs: list[ServiceDef],
    orgs: dict[str, Organisation],
    users: dict[str, User],
    by_gss: dict[str, Borough],
    now: datetime,
    report: SeedReport,
) -> None:
    org_ids = [o.id for o in orgs.values()]
    existing = {
        (s.organisation_id, s.name): s
        for s in Service.objects.filter(organisation_id__in=org_ids).only(
            "id", "organisation_id", "name", "capacity_status", "capacity_expires_at"
        )
    }
    partner = users["demo-partner"]

    def setter(org: Organisation) -> User | None:
        return partner if org.id == partner.organisation_id else None

    # Live demo capacity that has lapsed since the last run is renewed.
    # Service's QuerySet.update re-indexes each renewed service (the search copies capacity).
    for d in defs:
        org = orgs[d.organisation.ods_code]
        service = existing.get((org.id, d.name))
        if service is None:
            continue
        _status, _slots, live = CAPACITY_SCENARIOS[d.capacity]
        if live and (service.capacity_expires_at is None or service.capacity_expires_at <= now):
            Service.objects.filter(id=service.id).update(
                **capacity_fields(d.capacity, now, setter(org))
            )
            report.capacity_refreshed += 1

    # Demo services loaded before the search index existed (or whose index was lost).
    unindexed = list(
        Service.objects.filter(id__in=[s.id for s in existing.values()])
        .filter(search_entries__isnull=True)
        .values_list("id", flat=True)
    )
    if unindexed:
        report.reindexed = services_index_rebuild(service_ids=unindexed)

    wanted = [d for d in defs if (orgs[d.organisation.ods_code].id, d.name) not in existing]
    if not wanted:
        return

    locations = {
        (loc.organisation_id, loc.name): loc
        for loc in Location.objects.filter(organisation_id__in=org_ids)
    }
    new_locations = {}
    for d in wanted:
        org = orgs[d.organisation.ods_code]
        key = (org.id, d.site)
        if key not in locations and key not in new_locations:
            new_locations[key] = Location(
                name=d.site,
                address=d.address,
                postcode=d.postcode,
                latitude=d.latitude,
                longitude=d.longitude,
                borough=d.borough,
                organisation=org,
            )
    Location.objects.bulk_create(new_locations.values())
    locations.update(new_locations)
    report.locations = len(new_locations)

    services = []
    for d in wanted:
        org = orgs[d.organisation.ods_code]
        t = d.template
        services.append(
            Service(
                organisation=org,
                name=d.name,
                public_name=d.name,
                description=t.description,
                location=locations[(org.id, d.site)],
                phone=d.phone,
                professional_phone=d.professional_phone,
                referral_instructions=t.instructions,
                referral_roles=[Role.CREW],
                min_age=t.min_age,
                max_age=t.max_age,
                sexes=list(t.sexes),
                inclusion_criteria=t.inclusion,
                exclusion_criteria=t.exclusion,
                bank_holiday_hours=t.bank_holidays,
                visits_at_home=t.visits_at_home,
                **capacity_fields(d.capacity, now, setter(org)),
            )
        )
    Service.objects.bulk_create(services)
    report.services = len(services)

    categories = {c.code: c.id for c in Category.objects.all()}
    category_links, borough_links, spans, exceptions = [], [], [], []
    today = timezone.localdate(now)
    for d, service in zip(wanted, services, strict=True):
        t = d.template
        category_links += [
            Service.categories.through(service_id=service.id, category_id=categories[code])
            for code in t.categories
        ]
        borough_links += [
            Service.boroughs_covered.through(service_id=service.id, borough_id=gss)
            for gss in d.covered_gss
        ]
        spans += spans_for(service.id, t.hours)
        if t.closed_in_days is not None:
            exceptions.append(
                OpeningException(
                    service_id=service.id,
                    date=today + timedelta(days=t.closed_in_days),
                    closed=True,
                    note="Closed for staff training (demo)",
                )
            )
    Service.categories.through.objects.bulk_create(category_links)
    Service.boroughs_covered.through.objects.bulk_create(borough_links)
    OpeningSpan.objects.bulk_create(spans)
    OpeningException.objects.bulk_create(exceptions)
    services_index_rebuild(service_ids=[s.id for s in services])


def _ensure_postcodes(defs: list[ServiceDef], report: SeedReport) -> None:
    wanted = {
        d.postcode: Postcode(
            postcode=d.postcode,
            latitude=d.latitude,
            longitude=d.longitude,
            borough_id=d.borough.gss_code,
            local_authority_code=d.borough.gss_code,
        )
        for d in defs
    }
    current = {
        p["postcode"]: (p["latitude"], p["longitude"], p["borough_id"])
        for p in Postcode.objects.filter(postcode__in=list(wanted)).values(
            "postcode", "latitude", "longitude", "borough_id"
        )
    }
    stale = [
        p
        for code, p in wanted.items()
        if current.get(code) != (p.latitude, p.longitude, p.borough_id)
    ]
    if stale:
        Postcode.objects.bulk_create(
            stale,
            update_conflicts=True,
            unique_fields=["postcode"],
            update_fields=["latitude", "longitude", "borough", "local_authority_code"],
        )
        report.postcodes = len(stale)
