"""Make N synthetic services across Greater London, for benchmarks.

Written in batches (one site per service, categories, weekly hours, capacity,
eligibility) together with their complete search index rows, built by the same
directory.index.index_rows as every other writer. On PostgreSQL every table is written
as plain rows by COPY (no model instances), batches can be written from several processes
(--jobs), and the tables are analysed at the end: 500,000 took 147 s on 2 busy cores
(load 3.4-4.3). Elsewhere (SQLite, the tests) the same rows go through bulk_create.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import time as clock
from datetime import time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

from directory.bulk_rows import RowWriter
from directory.demo import capacity_fields
from directory.demo_data import CAPACITY_SCENARIOS, HOURS, OUTWARD_CODES, invent_postcode
from directory.index import ENTRY_COLUMNS, SEARCH_FACT_FIELDS, IndexSource, index_rows
from directory.models import (
    BankHolidayHours,
    Borough,
    Category,
    Location,
    OpeningSpan,
    Organisation,
    Role,
    Service,
    ServiceSearchEntry,
    WeeklyWindow,
)

SYNTHETIC_ORGANISATIONS = 8
BANK_HOLIDAY_HOURS = tuple(BankHolidayHours.values)  # .values builds a new list each call
SPREAD_KM = 3.0
# Weighted choices: (value, weight).
CAPACITY_WEIGHTS = [
    ("green", 30),
    ("green-slots", 10),
    ("amber", 15),
    ("amber-slots", 5),
    ("red", 10),
    ("expired", 15),
    ("unknown", 15),
]
HOURS_WEIGHTS = [
    ("24/7", 30),
    ("extended", 15),
    ("office", 15),
    ("utc", 10),
    ("evenings", 8),
    ("overnight", 7),
    ("weekend", 5),
    ("out-of-hours", 5),
    ("shop", 5),
]
# (min_age, max_age, sexes), weighted.
ELIGIBILITY_WEIGHTS = [
    ((None, None, []), 60),
    ((18, None, []), 20),
    ((65, None, []), 7),
    ((0, 17, []), 7),
    ((16, 55, ["female"]), 6),
]


# Each hours pattern as (weekday, opens, closes) spans, parsed once.
SPANS = {
    name: tuple((d, time.fromisoformat(o), time.fromisoformat(c)) for d, o, c in spans)
    for name, spans in HOURS.items()
}


def _weighted(rng: random.Random, table):
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights)[0]


class Command(BaseCommand):
    help = "Make N synthetic services across Greater London (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, nargs="?", help="how many services to make")
        parser.add_argument("--count", dest="count_option", type=int, help="the same, named")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="write batches from this many processes at once (PostgreSQL only)",
        )

    def handle(self, *args, count, count_option, seed: int, batch_size: int, jobs: int, **options):
        count = count if count is not None else count_option
        if count is None or count < 1:
            raise CommandError("count must be at least 1")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        boroughs = list(Borough.objects.order_by("gss_code"))
        categories = list(Category.objects.order_by("code"))
        if not boroughs or not categories:
            raise CommandError("Reference data missing: run `manage.py migrate` first.")
        number = Service.objects.count()
        _shared.update(
            boroughs=boroughs,
            organisations=self._organisations(boroughs),
            category_weights=[
                (c.id, 1 if c.code == "emergency-department" else 10) for c in categories
            ],
            names={c.id: c.name for c in categories},
        )
        # Each batch draws from its own seeded generator, so the rows do not depend on
        # how many processes write them.
        batches = [
            (seed, index, min(batch_size, count - first), number + first)
            for index, first in enumerate(range(0, count, batch_size))
        ]
        parallel = jobs > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
        started = clock.monotonic()
        made = 0
        if parallel:
            # Forked workers open their own connections; none may share the parent's.
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for size in pool.imap_unordered(_write_batch, batches):
                    made += size
                    self.stdout.write(f"  {made}/{count} services", ending="\r")
        else:
            for batch in batches:
                made += _write_batch(batch)
                self.stdout.write(f"  {made}/{count} services", ending="\r")
        if connection.vendor == "postgresql":
            _analyze()
        elapsed = clock.monotonic() - started
        self.stdout.write(
            f"Made {count} synthetic services in {elapsed:.1f} s "
            f"({count / elapsed:,.0f} a second); {Service.objects.count()} in the directory."
        )

    def _organisations(self, boroughs: list[Borough]) -> list[Organisation]:
        wanted = [f"SYN{n:02d}" for n in range(1, SYNTHETIC_ORGANISATIONS + 1)]
        existing = {o.ods_code for o in Organisation.objects.filter(ods_code__in=wanted)}
        Organisation.objects.bulk_create(
            Organisation(
                ods_code=code,
                name=f"Synthetic Provider {code[3:]} (benchmark)",
                kind=Organisation.Kind.NHS_TRUST,
                ics=boroughs[i % len(boroughs)].ics,
                borough=boroughs[i % len(boroughs)],
            )
            for i, code in enumerate(wanted)
            if code not in existing
        )
        return list(Organisation.objects.filter(ods_code__in=wanted).order_by("ods_code"))


# What every batch reads (set by handle before any batch runs; forked workers inherit it).
_shared: dict = {}


def _analyze() -> None:
    """Fresh planner statistics for the tables just filled (autovacuum lags a bulk load)."""
    tables = [
        Location,
        Service,
        Service.categories.through,
        Service.boroughs_covered.through,
        OpeningSpan,
        ServiceSearchEntry,
        WeeklyWindow,
    ]
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _write_batch(batch: tuple[int, int, int, int]) -> int:
    """Make and write one batch of services, in one transaction; how many it made."""
    seed, index, size, first_number = batch
    rng = random.Random(f"{seed}/{index}")
    boroughs, organisations = _shared["boroughs"], _shared["organisations"]
    category_weights, names = _shared["category_weights"], _shared["names"]
    now = timezone.now()
    plans = []
    for i in range(size):
        borough = rng.choice(boroughs)
        # Uniform over a disc around the borough's centre (the City is smaller).
        spread = 0.6 if borough.gss_code == "E09000001" else SPREAD_KM
        distance = spread * math.sqrt(rng.random())
        bearing = rng.uniform(0, 2 * math.pi)
        lat = borough.centre_latitude + distance * math.cos(bearing) / 111.32
        lon = borough.centre_longitude + distance * math.sin(bearing) / (
            111.32 * math.cos(math.radians(borough.centre_latitude))
        )
        first = _weighted(rng, category_weights)
        cats = {first}
        if rng.random() < 0.3:
            cats.add(_weighted(rng, category_weights))
        plans.append(
            {
                "number": first_number + i + 1,
                "borough": borough,
                "organisation": rng.choice(organisations),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "postcode": invent_postcode(rng, borough.gss_code)
                if borough.gss_code in OUTWARD_CODES
                else "SW1A 1AA",
                "categories": sorted(cats),
                "hours": _weighted(rng, HOURS_WEIGHTS),
                "capacity": _weighted(rng, CAPACITY_WEIGHTS),
                "eligibility": _weighted(rng, ELIGIBILITY_WEIGHTS),
                "covers_borough": rng.random() < 0.1,
            }
        )

    # Plain rows (attname -> value): no model instances, these are many and simple.
    writer = RowWriter()
    fact_defaults = {
        name: Service._meta.get_field(name).get_default() for name in SEARCH_FACT_FIELDS
    }
    locations = [
        {
            "name": f"Synthetic site {p['number']}",
            "address": f"{p['number']} Benchmark Road, {p['borough'].name}, London",
            "postcode": p["postcode"],
            "latitude": p["lat"],
            "longitude": p["lon"],
            "borough_id": p["borough"].pk,
            "organisation_id": p["organisation"].pk,
        }
        for p in plans
    ]
    services = []
    for p in plans:
        min_age, max_age, sexes = p["eligibility"]
        capacity = capacity_fields(p["capacity"], now, None)
        capacity["capacity_updated_by_id"] = capacity.pop("capacity_updated_by")
        if CAPACITY_SCENARIOS[p["capacity"]][1] is not None:
            capacity["capacity_slots"] = rng.randint(0, 5)
        if CAPACITY_SCENARIOS[p["capacity"]][2]:
            capacity["capacity_expires_at"] = now + timedelta(minutes=rng.randint(30, 24 * 60))
        services.append(
            {
                "organisation_id": p["organisation"].pk,
                "name": f"Synthetic {names[p['categories'][0]]} {p['number']}",
                "referral_roles": [Role.CREW],
                "min_age": min_age,
                "max_age": max_age,
                "sexes": sexes,
                "bank_holiday_hours": rng.choice(BANK_HOLIDAY_HOURS),
                "professional_phone": "020 7946 0999",
                "created_at": now,
                "updated_at": now,
                **capacity,
            }
        )

    with transaction.atomic():
        writer.begin()
        location_ids = writer.insert(Location, locations)
        for service, location_id in zip(services, location_ids, strict=True):
            service["location_id"] = location_id
        service_ids = writer.insert(Service, services)

        category_links, borough_links, spans, entries, windows = [], [], [], [], []
        for p, service, service_id in zip(plans, services, service_ids, strict=True):
            category_links += [(service_id, category_id) for category_id in p["categories"]]
            if p["covers_borough"]:
                borough_links.append((service_id, p["borough"].gss_code))
            service_spans = SPANS[p["hours"]]
            spans += [(service_id, *span) for span in service_spans]
            # The search index from what was just written, through the one builder.
            rows, service_windows = index_rows(
                IndexSource(
                    service_id=service_id,
                    latitude=p["lat"],
                    longitude=p["lon"],
                    facts={
                        name: service[name] if name in service else fact_defaults[name]
                        for name in SEARCH_FACT_FIELDS
                    },
                    category_ids=p["categories"],
                    covers_any=p["covers_borough"],
                    spans=service_spans,
                )
            )
            entries += [tuple(row[name] for name in ENTRY_COLUMNS) for row in rows]
            windows += [(service_id, *window) for window in service_windows]
        writer.write_rows(Service.categories.through, ["service_id", "category_id"], category_links)
        writer.write_rows(
            Service.boroughs_covered.through, ["service_id", "borough_id"], borough_links
        )
        writer.write_rows(OpeningSpan, ["service_id", "weekday", "opens", "closes"], spans)
        writer.write_rows(ServiceSearchEntry, list(ENTRY_COLUMNS), entries)
        writer.write_rows(WeeklyWindow, ["service_id", "starts", "ends"], windows)
    return size
