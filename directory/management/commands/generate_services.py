"""Make N synthetic services across Greater London, for benchmarks.

Written in batches (one site per service, categories, weekly hours, capacity,
eligibility) together with their complete search index rows, built by the same
directory.index.index_rows as every other writer, by COPY on PostgreSQL, so 50,000
take well under a minute and 500,000 are feasible.
"""

from __future__ import annotations

import json
import math
import random
import time as clock
from datetime import time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

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

    def handle(self, *args, count, count_option, seed: int, batch_size: int, **options):
        count = count if count is not None else count_option
        if count is None or count < 1:
            raise CommandError("count must be at least 1")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        boroughs = list(Borough.objects.order_by("gss_code"))
        categories = list(Category.objects.order_by("code"))
        if not boroughs or not categories:
            raise CommandError("Reference data missing: run `manage.py migrate` first.")
        rng = random.Random(seed)
        organisations = self._organisations(boroughs)
        category_weights = [
            (c.id, 1 if c.code == "emergency-department" else 10) for c in categories
        ]
        names = {c.id: c.name for c in categories}
        number = Service.objects.count()
        started = clock.monotonic()
        made = 0
        while made < count:
            size = min(batch_size, count - made)
            self._batch(rng, size, number + made, boroughs, organisations, category_weights, names)
            made += size
            self.stdout.write(f"  {made}/{count} services", ending="\r")
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

    def _batch(self, rng, size, first_number, boroughs, organisations, category_weights, names):
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

        locations = [
            Location(
                name=f"Synthetic site {p['number']}",
                address=f"{p['number']} Benchmark Road, {p['borough'].name}, London",
                postcode=p["postcode"],
                latitude=p["lat"],
                longitude=p["lon"],
                borough=p["borough"],
                organisation=p["organisation"],
            )
            for p in plans
        ]
        services = []
        for p in plans:
            min_age, max_age, sexes = p["eligibility"]
            capacity = capacity_fields(p["capacity"], now, None)
            if CAPACITY_SCENARIOS[p["capacity"]][1] is not None:
                capacity["capacity_slots"] = rng.randint(0, 5)
            if CAPACITY_SCENARIOS[p["capacity"]][2]:
                capacity["capacity_expires_at"] = now + timedelta(minutes=rng.randint(30, 24 * 60))
            services.append(
                Service(
                    organisation=p["organisation"],
                    name=f"Synthetic {names[p['categories'][0]]} {p['number']}",
                    referral_roles=[Role.CREW],
                    min_age=min_age,
                    max_age=max_age,
                    sexes=sexes,
                    bank_holiday_hours=rng.choice(BANK_HOLIDAY_HOURS),
                    professional_phone="020 7946 0999",
                    created_at=now,
                    updated_at=now,
                    **capacity,
                )
            )

        with transaction.atomic():
            writer = RowWriter()
            writer.relax_commit()
            writer.write(Location, locations, with_ids=True)
            for service, location in zip(services, locations, strict=True):
                service.location_id = location.id
            writer.write(Service, services, with_ids=True)

            # Plain tuples from here on: these rows are many and simple.
            category_links, borough_links, spans, entries, windows = [], [], [], [], []
            for p, service, location in zip(plans, services, locations, strict=True):
                category_links += [(service.id, category_id) for category_id in p["categories"]]
                if p["covers_borough"]:
                    borough_links.append((service.id, p["borough"].gss_code))
                service_spans = [(d, _wall(o), _wall(c)) for d, o, c in HOURS[p["hours"]]]
                spans += [(service.id, *span) for span in service_spans]
                # The search index from what was just written, through the one builder.
                rows, service_windows = index_rows(
                    IndexSource(
                        service_id=service.id,
                        latitude=location.latitude,
                        longitude=location.longitude,
                        facts={name: getattr(service, name) for name in SEARCH_FACT_FIELDS},
                        category_ids=p["categories"],
                        covers_any=p["covers_borough"],
                        spans=service_spans,
                    )
                )
                entries += [tuple(row[name] for name in ENTRY_COLUMNS) for row in rows]
                windows += [(service.id, *window) for window in service_windows]
            writer.write_rows(
                Service.categories.through, ["service_id", "category_id"], category_links
            )
            writer.write_rows(
                Service.boroughs_covered.through, ["service_id", "borough_id"], borough_links
            )
            writer.write_rows(OpeningSpan, ["service_id", "weekday", "opens", "closes"], spans)
            writer.write_rows(ServiceSearchEntry, list(ENTRY_COLUMNS), entries)
            writer.write_rows(WeeklyWindow, ["service_id", "starts", "ends"], windows)


class RowWriter:
    """Many new rows at once: COPY on PostgreSQL (no per-row SQL), bulk_create elsewhere.

    Rows are model instances, so every column and Python-side default is the model's own;
    with_ids gives them their primary keys first (PostgreSQL hands out a block of them).
    """

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"

    def write(self, model, objs: list, *, with_ids: bool = False) -> None:
        if not objs:
            return
        if not self.copy:
            model.objects.bulk_create(objs, batch_size=2000)
            return
        pk = model._meta.pk
        fields = [f for f in model._meta.concrete_fields if with_ids or f is not pk]
        with connection.cursor() as cursor:
            if with_ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [model._meta.db_table, pk.column, len(objs)],
                )
                for obj, (new_id,) in zip(objs, cursor.fetchall(), strict=True):
                    obj.pk = new_id
            self._copy(
                cursor,
                model,
                [f.column for f in fields],
                ([_db_value(f, obj) for f in fields] for obj in objs),
            )

    def relax_commit(self) -> None:
        """Do not wait for the disk at this transaction's commit (PostgreSQL only).

        Synthetic rows: a crash could lose the last batch, never corrupt the database.
        """
        if self.copy:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def write_rows(self, model, names: list[str], rows: list[tuple]) -> None:
        """Rows given as tuples of the named fields (attnames, e.g. service_id)."""
        if not rows:
            return
        if not self.copy:
            model.objects.bulk_create(
                [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=2000
            )
            return
        fields = [model._meta.get_field(name.removesuffix("_id")) for name in names]
        json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
        if json_at:
            rows = (_json_cells(row, json_at) for row in rows)
        with connection.cursor() as cursor:
            self._copy(cursor, model, [f.column for f in fields], rows)

    @staticmethod
    def _copy(cursor, model, columns: list[str], rows) -> None:
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        table = connection.ops.quote_name(model._meta.db_table)
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _wall(value: str) -> time:
    return time.fromisoformat(value)


def _json_cells(row: tuple, json_at: list[int]) -> list:
    cells = list(row)
    for i in json_at:
        cells[i] = json.dumps(cells[i])
    return cells


def _db_value(field, obj):
    value = getattr(obj, field.attname)
    if isinstance(field, models.JSONField) and value is not None:
        return json.dumps(value)
    return value
