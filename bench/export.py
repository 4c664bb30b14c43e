"""Benchmark: the de-identified CSV extract through the HTTP endpoint, 100k and 1M referrals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_h5_bench .venv/bin/python bench/export.py
    (add --sizes 1000000 to measure again on the rows already there)

Creates the database if needed and migrates it, inserts synthetic referrals in SQL
(INSERT ... SELECT over generate_series: seconds, not minutes), then, for each size, runs a
fresh subprocess that asks GET /api/v1/reports/referrals/rows/?format=csv through Django's
test client as a planner and consumes the stream. Each subprocess reports its seconds and
peak RSS (VmHWM), so the peaks are separate. Last line: one JSON object for the largest.
Targets: 1M rows <= 30 s, peak <= 200 MB, memory flat from 100k to 1M.
Not a test: figures vary with the machine (other work on the same cores adds noise).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fd_h5_bench"
SIZES = [100_000, 1_000_000]
SERVICES = 60
PLANNER = "bench-planner"


def _setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")  # as before: the settings now default to production
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure() -> None:
    """In a fresh process: stream the CSV through the endpoint and count what arrives."""
    _setup_django()
    from django.test import Client

    from directory.models import User

    client = Client()
    client.force_login(User.objects.get(username=PLANNER))
    started = time.perf_counter()
    response = client.get("/api/v1/reports/referrals/rows/", {"format": "csv"})
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "megabytes": round(size / 1e6, 1),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            }
        )
    )


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )


def directory_for_bench() -> tuple[list[int], list[int], int]:
    """Services (with one category each) across the boroughs, a referrer and a planner."""
    from directory.models import Borough, Category, Location, Organisation, Role, Service, User

    referrer, _ = Organisation.objects.get_or_create(
        ods_code="BENCH0",
        defaults={"name": "Bench Ambulance", "kind": Organisation.Kind.AMBULANCE_TRUST},
    )
    if not User.objects.filter(username=PLANNER).exists():
        User.objects.create_user(PLANNER, role=Role.PLANNER, organisation=referrer)
    boroughs = list(Borough.objects.order_by("gss_code"))
    categories = list(Category.objects.order_by("code"))
    services = list(Service.objects.filter(name__startswith="Bench ").order_by("pk"))
    for index in range(len(services), SERVICES):
        where = boroughs[index % len(boroughs)]
        org = Organisation.objects.create(
            name=f"Bench Provider {index}",
            ods_code=f"BENCH{index + 1}",
            kind=Organisation.Kind.NHS_TRUST,
            borough=where,
            ics=where.ics,
        )
        location = Location.objects.create(
            address=f"{index} Bench Street",
            postcode="ZZ99 9ZZ",
            latitude=where.centre_latitude,
            longitude=where.centre_longitude,
            borough=where,
            organisation=org,
        )
        service = Service.objects.create(
            organisation=org, name=f"Bench Service {index}", location=location
        )
        service.categories.set([categories[index % len(categories)]])
        services.append(service)
    category_ids = [service.categories.values_list("pk", flat=True)[0] for service in services]
    return [service.pk for service in services], category_ids, referrer.pk


def _column_sql(field, known: dict[str, str]) -> str:
    """An SQL expression for one referral column: ours where it matters, a blank otherwise."""
    from django.db import models

    if field.column in known:
        return known[field.column]
    if field.null:
        return "NULL"
    if isinstance(field, models.BooleanField):
        return "false"
    if isinstance(field, models.JSONField):
        return "'{}'::jsonb"
    if isinstance(field, models.DateTimeField):
        return "s.c"
    if isinstance(field, models.IntegerField):
        return "0"
    return "''"


def insert_referrals(count: int, services: list[int], categories: list[int], referrer: int) -> None:
    """count synthetic referrals over the last year, with plausible outcomes and times."""
    from django.db import connection

    from referrals.models import Referral

    known = {
        "id": "gen_random_uuid()",
        "service_id": f"(ARRAY{services})[1 + s.g % {len(services)}]",
        "category_id": f"(ARRAY{categories})[1 + s.g % {len(services)}]",
        "referring_organisation_id": str(referrer),
        "incident_reference": "'BENCH-' || s.g",
        "urgency": "'within_4h'",
        "status": (
            "CASE WHEN s.r < 0.05 THEN 'sent' WHEN s.r < 0.10 THEN 'acknowledged' "
            "WHEN s.r < 0.30 THEN 'accepted' WHEN s.r < 0.60 THEN 'completed' "
            "WHEN s.r < 0.80 THEN 'declined' WHEN s.r < 0.90 THEN 'cancelled' ELSE 'expired' END"
        ),
        "consent_given": "true",
        "age_band": "(ARRAY['0-17','18-64','65-79','80+'])[1 + s.g % 4]",
        "decline_reason": "CASE WHEN s.r >= 0.6 AND s.r < 0.8 THEN 'no_capacity' ELSE '' END",
        "acknowledged_at": (
            "CASE WHEN s.r >= 0.05 AND s.r < 0.8 THEN s.c + s.r2 * interval '60 minutes' END"
        ),
        "answered_at": (
            "CASE WHEN s.r >= 0.10 AND s.r < 0.8 "
            "THEN s.c + interval '60 minutes' + s.r2 * interval '120 minutes' END"
        ),
        "acknowledge_due_at": "s.c + interval '30 minutes'",
        "answer_due_at": "s.c + interval '2 hours'",
    }
    fields = list(Referral._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join(_column_sql(f, known) for f in fields)
    table = connection.ops.quote_name(Referral._meta.db_table)
    batch = 250_000
    with connection.cursor() as cursor:
        start = cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        for low in range(start, start + count, batch):
            high = min(low + batch, start + count)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {values} FROM ("  # noqa: S608
                "SELECT g, random() AS r, random() AS r2, "
                # Made in time order, as real referrals are (the created_at index then
                # follows the table), about one every 31 seconds over the last year.
                "now() - interval '365 days' + g * interval '31 seconds' "
                "+ random() * interval '30 seconds' AS c "
                f"FROM generate_series({low + 1}, {high}) AS g) AS s"
            )
        cursor.execute(f"ANALYZE {table}")


def main() -> None:
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/export.py needs PostgreSQL: set DATABASE_URL")
    ensure_database(url)
    _setup_django()
    from django.db import connection

    from referrals.models import Referral

    sizes = SIZES
    if "--sizes" in sys.argv:  # e.g. --sizes 1000000 to measure again without re-inserting
        sizes = [int(n) for n in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    services, categories, referrer = directory_for_bench()
    table = connection.ops.quote_name(Referral._meta.db_table)
    with connection.cursor() as cursor:
        have = cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        if have > sizes[0]:
            cursor.execute(f"TRUNCATE {table} CASCADE")
            have = 0
    last = None
    for size in sizes:
        started = time.perf_counter()
        if size > have:
            insert_referrals(size - have, services, categories, referrer)
            have = size
        print(f"{size:,} referrals ready in {time.perf_counter() - started:.1f} s")
        run = subprocess.run(
            [sys.executable, __file__, "--measure"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        last = json.loads(run.stdout.strip().splitlines()[-1])
        print(
            f"{last['rows']:,} rows: {last['seconds']} s, peak RSS {last['peak_rss_mb']} MB, "
            f"{last['megabytes']} MB of CSV, {last['cpu_seconds']} s CPU in the exporting process"
        )
    print(json.dumps({key: last[key] for key in ("rows", "seconds", "peak_rss_mb")}))


if __name__ == "__main__":
    if "--measure" in sys.argv:
        measure()
    else:
        main()
