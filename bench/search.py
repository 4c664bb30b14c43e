"""Benchmark the crew search through the real endpoint, against raw SQL and a naive baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/search.py
    ... bench/search.py --size 500000

Loads N synthetic services across Greater London with `manage.py generate_services` (COPY,
search index included; once: re-runs reuse them when the count matches), printing how long
that took beside the load average. Then runs 200 random searches (10 km, one category, an
age) through GET /api/v1/services/search/ with Django's test client and a crew's token, so routing,
authentication, ranking, serialisation and the search log all count: twice, timing both
passes; the second, with the directory's pages read once already, is the figure. In the same run it
times (a) the search's main query as raw SQL on its own psycopg connection, once with its
values in the text (planned each run, as the endpoint runs it) and once prepared, and (b) a naive
baseline: load the category's services and rank them in Python with geopy's geodesic.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.referrals_setup import PRODUCTION_SHAPE  # noqa: E402

# As production runs: DEBUG off (no query log kept per statement).
os.environ.update(PRODUCTION_SHAPE)

LONDON = ZoneInfo("Europe/London")
# A week with no bank holiday or clock change: the searches' `at` falls in it.
WEEK_START = datetime(2026, 6, 8, 0, 0, tzinfo=LONDON)
CENTRE = (51.5072, -0.1276)
# Processes writing the services at once (generate_services --jobs): the bench has 2 cores.
LOAD_JOBS = 2
SEARCHES = 200


# The naive scan reads every service of the category: about 46 s a search at 500,000, so
# fewer are timed as the directory grows (20 at 50,000, 3 at 500,000).
def naive_searches(size: int) -> int:
    return max(3, min(20, 1_000_000 // size))


def _setup_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _load(size: int, seed: int) -> None:
    """N synthetic services through `manage.py generate_services` (COPY, index included).

    A database that holds exactly N services is reused; otherwise the services and their
    locations (and everything hanging off them) are truncated and N are loaded afresh.
    """
    from django.core.management import call_command
    from django.db import connection

    from directory.models import Location, Service, ServiceSearchEntry, WeeklyWindow

    if Service.objects.count() == size:
        print(f"reusing {size} services already loaded", flush=True)
        return
    print(f"loading {size} services (load average {_loadavg()})...", flush=True)
    started = time.perf_counter()
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Service, Location))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    call_command(
        "generate_services",
        size,
        "--seed",
        seed,
        "--jobs",
        LOAD_JOBS,
        "--batch-size",
        10_000,
        stdout=sys.stdout,
    )
    with connection.cursor() as cursor:
        # generate_services analysed the tables; index-only scans need the visibility map.
        for model in (Service, Location, ServiceSearchEntry, WeeklyWindow):
            cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")
    print(
        f"loaded in {time.perf_counter() - started:.0f} s (load average {_loadavg()})",
        flush=True,
    )


def _loadavg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _searches(rng: random.Random) -> list[dict]:
    from directory.models import Category

    codes = list(
        Category.objects.exclude(code="emergency-department").values_list("code", flat=True)
    )
    searches = []
    for _ in range(SEARCHES):
        at = WEEK_START + timedelta(minutes=rng.randrange(7 * 24 * 60))
        searches.append(
            {
                "lat": f"{rng.gauss(CENTRE[0], 0.06):.5f}",
                "lon": f"{rng.gauss(CENTRE[1], 0.09):.5f}",
                "radius_km": "10",
                "category": rng.choice(codes),
                "age": str(rng.randrange(0, 100)),
                "at": at.isoformat(),
            }
        )
    return searches


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def crew_client(searches: list[dict]):
    """A test client with the bench crew's token, warmed up (caches, connection) by the
    first 20 searches."""
    from django.test import Client
    from knox.models import AuthToken

    from directory.models import Organisation, Role, User

    trust, _ = Organisation.objects.get_or_create(
        ods_code="BENCHLAS", defaults={"name": "Bench Ambulance", "kind": "ambulance_trust"}
    )
    crew, _ = User.objects.get_or_create(
        username="bench-crew", defaults={"organisation": trust, "role": Role.CREW}
    )
    _, token = AuthToken.objects.create(crew, timedelta(hours=1))
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    for params in searches[:20]:
        client.get("/api/v1/services/search/", params)
    return client


def _time_endpoint(searches: list[dict]) -> tuple[list[float], list[float], float]:
    """The searches' timings on a first pass, then on a second, the one the targets judge.

    The first pass reads each search's part of the directory for the first time: at
    500,000 services (1.2 GB with its index) that is mostly not yet in PostgreSQL's shared
    buffers, and its figure moved with whatever ran before (9.5 to 24 ms p50 on one
    machine). The second is the steady state of a directory in constant use across London."""
    client = crew_client(searches)
    passes = []
    for _ in range(2):
        timings = []
        for params in searches:
            started = time.perf_counter()
            answer = client.get("/api/v1/services/search/", params)
            timings.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"search failed: {answer.status_code} {answer.content[:300]!r}")
        passes.append(timings)
    return passes[1], passes[0], _queries_per_request(client, searches[:20])


def _queries_per_request(client, searches: list[dict]) -> float:
    """The mean number of statements one search sends, counted after the timed runs (the
    count's own bookkeeping must not sit inside a timing)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        for params in searches:
            client.get("/api/v1/services/search/", params)
    return len(queries.captured_queries) / len(searches)


def _time_raw_sql(searches: list[dict], url: str, *, prepared: bool) -> list[float]:
    """The statements the endpoint sends for its best open services, as raw SQL: the
    nearest distance band's, and the whole radius's only when the band does not settle
    the page (as directory/search/sql.py's fast_rows decides)."""
    import psycopg

    from directory.search import (
        UNCERTAIN,
        Moment,
        Ranked,
        candidates_queryset,
        fast_rows_sql,
        nearest_band_km,
        nearest_band_settles,
        search_query_from_params,
    )

    def statement(query, moment, radius_km: float) -> tuple[str, list]:
        candidates = candidates_queryset(
            query, moment, categories=query.categories, radius_km=radius_km
        )
        # %s placeholders as psycopg takes them.
        return fast_rows_sql(query, moment, candidates, limit=query.limit, with_uncertain=True)

    questions = []
    for params in searches:
        query = search_query_from_params(params)
        moment = Moment.of(query.at)
        near_km = nearest_band_km(query)
        near = statement(query, moment, near_km) if near_km is not None else None
        questions.append((near, statement(query, moment, query.radius_km), query.limit))

    def ask(cursor, near, whole, limit: int) -> None:
        if near is not None:
            rows = [Ranked._make(row) for row in cursor.execute(*near, prepare=prepared).fetchall()]
            if nearest_band_settles([row for row in rows if row.rank != UNCERTAIN], limit):
                return
        cursor.execute(*whole, prepare=prepared).fetchall()

    timings = []
    with psycopg.connect(url) as conn:
        # Unprepared: the values written into the text, planned on every run, as the
        # endpoint runs its main statement. Prepared: bound on the server and planned once,
        # as the endpoint's other statements run with DB_PREPARE_THRESHOLD on.
        cursor = psycopg.Cursor(conn) if prepared else psycopg.ClientCursor(conn)
        for question in questions[:20]:
            ask(cursor, *question)
        for question in questions:
            started = time.perf_counter()
            ask(cursor, *question)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _time_naive(searches: list[dict], count: int) -> list[float]:
    """Load the category's services with their hours; filter and rank in Python."""
    from geopy.distance import geodesic

    from directory.hours import service_opening_state
    from directory.models import Service

    timings = []
    for params in searches[:count]:
        started = time.perf_counter()
        origin = (float(params["lat"]), float(params["lon"]))
        at = datetime.fromisoformat(params["at"])
        age = int(params["age"])
        found = []
        services = (
            Service.objects.filter(categories__code=params["category"], active=True)
            .select_related("location")
            .prefetch_related("opening_spans", "opening_exceptions")
        )
        for service in services:
            km = geodesic(origin, (service.location.latitude, service.location.longitude)).km
            if km > 10:
                continue
            if (service.min_age is not None and age < service.min_age) or (
                service.max_age is not None and age > service.max_age
            ):
                continue
            state = service_opening_state(service, at)
            rank = (
                4
                if not state.open
                else {"GREEN": 0, "AMBER": 1, "RED": 3}.get(service.capacity_at(at), 2)
            )
            found.append((rank, km, service.pk))
        found.sort()
        found[:20]
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (it will be filled).")
    _setup_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    _load(args.size, args.seed)
    searches = _searches(rng)

    endpoint, first_pass, queries = _time_endpoint(searches)
    raw = _time_raw_sql(searches, url, prepared=False)
    raw_prepared = _time_raw_sql(searches, url, prepared=True)
    naive = _time_naive(searches, naive_searches(args.size))
    figures = {
        "size": args.size,
        "p50_ms": round(statistics.median(endpoint), 2),
        "p95_ms": round(_percentile(endpoint, 0.95), 2),
        "first_pass_p50_ms": round(statistics.median(first_pass), 2),
        "raw_sql_p50_ms": round(statistics.median(raw), 2),
        "raw_sql_prepared_p50_ms": round(statistics.median(raw_prepared), 2),
        "naive_p50_ms": round(statistics.median(naive), 2),
        "queries_per_request": round(queries, 2),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(
        f"endpoint p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms "
        f"(first pass p50 {figures['first_pass_p50_ms']} ms); "
        f"raw SQL p50 {figures['raw_sql_p50_ms']} ms "
        f"(x{figures['p50_ms'] / max(figures['raw_sql_p50_ms'], 0.001):.1f}), "
        f"prepared {figures['raw_sql_prepared_p50_ms']} ms "
        f"(x{figures['p50_ms'] / max(figures['raw_sql_prepared_p50_ms'], 0.001):.1f}); "
        f"naive p50 {figures['naive_p50_ms']} ms "
        f"({figures['naive_p50_ms'] / figures['p50_ms']:.0f}x slower); "
        f"{figures['queries_per_request']} queries per search; "
        f"load average {figures['load_average']}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
