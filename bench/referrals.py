"""Referral benchmark against PostgreSQL: create latency, throughput, delivery latency.

    .venv/bin/python bench/referrals.py [--requests 300] [--seconds 30] [--deliveries 200]

1. create: POST /api/v1/referrals/ in-process (Django test client, a crew token, a fresh
   Idempotency-Key each time) into demo-like services without counted slots: p50/p95.
2. throughput: gunicorn (2 workers, DEBUG off) on 127.0.0.1 and a load generator on loopback
   (a thread pool of http.client keep-alive connections) for N seconds: 201s per second.
3. delivery: with Redis as broker and a `celery -A config worker` subprocess, referrals
   created in-process into an organisation whose webhook endpoint is an HTTP receiver on
   127.0.0.1 (its own process); latency = arrival at the receiver - the event's created_at
   (written inside the transaction, so this slightly overstates commit-to-receipt).

Not a test. Uses its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/fd_h7_bench, created if missing) and Redis DB
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/7, flushed at start). Every person in it
is fictional (999-range NHS numbers). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fd_h7_bench")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")

# Production-shaped settings for this process, gunicorn and the worker: DEBUG off, but plain
# http on loopback (no TLS terminator here) and loopback webhook targets allowed.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": BENCH_DB,
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-" + uuid.uuid4().hex + uuid.uuid4().hex,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "OUTBOUND_ALLOW_PRIVATE": "true",
    "LOG_LEVEL": "WARNING",
    "SITE_URL": "http://127.0.0.1:8000",
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _ensure_database() -> None:
    import psycopg

    parts = urlsplit(BENCH_DB)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- data ------------------------------------------------------------------------------


def fictional_nhs_number(n: int) -> str:
    """A 999-range number with a valid Modulus 11 check digit, different for each n."""
    while True:
        digits = [9, 9, 9] + [int(c) for c in f"{n % 1_000_000:06d}"]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)
        n += 1


def referral_body(service_id: int, n: int) -> dict:
    return {
        "service": service_id,
        "incident_reference": f"CAD-BENCH-{n}",
        "urgency": "within_4h",
        "patient": {
            "nhs_number": fictional_nhs_number(n),
            "given_name": "Testy",
            "family_name": "McTestface",
            "date_of_birth": "1941-03-07",
            "sex": "female",
            "phone": "020 7946 0000",
            "address": "1 Example Street, London",
            "postcode": "SW1A 1AA",
        },
        "clinical": {
            "category": "falls",
            "presenting_complaint": "Fall at home, no head injury",
            "summary": "Fictional benchmark patient.",
            "observations": {"heart_rate": 82, "systolic_bp": 128, "spo2": 96, "news2": 1},
            "safeguarding_concern": False,
            "mobility": "with_aid",
        },
        "consent": {"given": True},
    }


def setup_data() -> dict:
    """Organisations, a crew with a token, open GREEN services without counted slots."""
    from datetime import time as clock

    from django.utils import timezone
    from knox.models import AuthToken

    from directory.models import (
        Borough,
        Capacity,
        Category,
        Location,
        OpeningSpan,
        Organisation,
        Role,
        Service,
        User,
    )
    from integrations.models import Delivery, Endpoint

    borough = Borough.objects.get(name="Westminster")
    falls = Category.objects.get(code="falls")

    def organisation(ods: str, name: str, kind: str) -> Organisation:
        org, _ = Organisation.objects.get_or_create(
            ods_code=ods, defaults={"name": name, "kind": kind, "borough": borough, "ics": "NWL"}
        )
        return org

    trust = organisation("BNCH0", "Bench Ambulance Trust", Organisation.Kind.AMBULANCE_TRUST)
    providers = [
        organisation(f"BNCH{i}", f"Bench Community Health {i}", Organisation.Kind.NHS_TRUST)
        for i in (1, 2, 3)
    ]
    receiving = organisation("BNCHR", "Bench Receiving Partner", Organisation.Kind.NHS_TRUST)
    crew, _ = User.objects.get_or_create(
        username="bench-crew", defaults={"organisation": trust, "role": Role.CREW}
    )
    _, token = AuthToken.objects.create(crew, timedelta(hours=2))

    def services_of(org: Organisation, count: int) -> list[int]:
        ids = []
        for i in range(count):
            location, _ = Location.objects.get_or_create(
                organisation=org,
                name=f"{org.name} site {i}",
                defaults={
                    "address": f"{i + 1} Example Road, London",
                    "postcode": "SW1A 1AA",
                    "latitude": 51.50 + i / 100,
                    "longitude": -0.14,
                    "borough": borough,
                },
            )
            service, created = Service.objects.get_or_create(
                organisation=org,
                name=f"{org.name} falls service {i}",
                defaults={"location": location, "referral_roles": [Role.CREW]},
            )
            if created:
                service.categories.set([falls])
                OpeningSpan.objects.bulk_create(
                    OpeningSpan(service=service, weekday=d, opens=clock(0), closes=clock(0))
                    for d in range(7)
                )
            # Live GREEN capacity for the whole run; no counted slots.
            Service.objects.filter(pk=service.pk).update(
                capacity_status=Capacity.GREEN,
                capacity_slots=None,
                capacity_updated_at=timezone.now(),
                capacity_expires_at=timezone.now() + timedelta(hours=4),
                active=True,
            )
            ids.append(service.pk)
        return ids

    load_services = [sid for org in providers for sid in services_of(org, 3)]
    receiving_services = services_of(receiving, 1)

    # Every partner has a webhook, so each create also writes its outbox row. The load phases
    # run with no broker and no sender: those rows wait and are cancelled afterwards.
    for org in providers:
        Endpoint.objects.get_or_create(
            organisation=org,
            kind=Endpoint.Kind.WEBHOOK,
            defaults={"url": "https://bench-sink.invalid/hooks"},
        )
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.CANCELLED)
    return {
        "token": token,
        "crew_id": crew.pk,
        "load_services": load_services,
        "receiving": receiving.pk,
        "receiving_service": receiving_services[0],
    }


def _cancel_waiting_deliveries() -> None:
    from integrations.models import Delivery

    Delivery.objects.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.CANCELLED)


# --- 1. create latency in-process -----------------------------------------------------------


def bench_create(data: dict, requests: int) -> tuple[float, float, float]:
    from django.test import Client, override_settings

    client = Client(HTTP_AUTHORIZATION=f"Token {data['token']}")
    services = data["load_services"]
    timings: list[float] = []
    warmup = 20
    with override_settings(CELERY_BROKER_URL=""):
        for n in range(requests + warmup):
            body = json.dumps(referral_body(services[n % len(services)], n))
            started = time.perf_counter()
            answer = client.post(
                "/api/v1/referrals/",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 201:
                raise SystemExit(f"create answered {answer.status_code}: {answer.content[:300]!r}")
            if n >= warmup:
                timings.append(elapsed)
        # The statements one create sends, counted apart from the timed requests.
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            for n in range(requests + warmup, requests + warmup + 20):
                client.post(
                    "/api/v1/referrals/",
                    json.dumps(referral_body(services[n % len(services)], n)),
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
                )
        per_request = len(queries.captured_queries) / 20
    p50, p95 = statistics.median(timings), _percentile(timings, 0.95)
    print(
        f"create (in-process, {len(timings)} requests): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(timings):.1f} ms, {per_request:g} queries per create   [load {_load()}]",
        flush=True,
    )
    return p50, p95, per_request


# --- 2. throughput through gunicorn ----------------------------------------------------------


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listening on 127.0.0.1:{port} after {seconds} s")


def _stop(process: subprocess.Popen, name: str) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop on SIGTERM; killing it", flush=True)
        process.kill()
        process.wait(timeout=5)


def bench_throughput(
    data: dict, seconds: int, connections: int, worker_class: str, threads: int
) -> float:
    port = _free_port()
    env = {**os.environ, **BENCH_ENV}
    env.pop("CELERY_BROKER_URL", None)
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--worker-class",
        worker_class,
        "--log-level",
        "warning",
        "--keep-alive",
        "5",
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    gunicorn = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own command
    try:
        _wait_for_port(port, 30)
        services = data["load_services"]
        headers_base = {
            "Authorization": f"Token {data['token']}",
            "Content-Type": "application/json",
        }
        stop_at = [0.0]
        counts: list[dict[int, int]] = []
        per_second: dict[int, int] = {}
        lock = threading.Lock()

        def worker(index: int) -> None:
            codes: dict[int, int] = {}
            counts.append(codes)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            n = 10_000_000 + index * 1_000_000
            while time.monotonic() < stop_at[0]:
                n += 1
                body = json.dumps(referral_body(services[n % len(services)], n))
                headers = {**headers_base, "Idempotency-Key": str(uuid.uuid4())}
                try:
                    conn.request("POST", "/api/v1/referrals/", body, headers)
                    answer = conn.getresponse()
                    answer.read()
                except (OSError, http.client.HTTPException):
                    conn.close()  # the server closed a kept-alive connection: open another
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    codes[-1] = codes.get(-1, 0) + 1
                    continue
                codes[answer.status] = codes.get(answer.status, 0) + 1
                if answer.status == 201:
                    second = int(time.monotonic() - started)
                    with lock:
                        per_second[second] = per_second.get(second, 0) + 1
                if answer.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.close()

        # A short warm-up so that both workers have imported everything and hold connections.
        stop_at[0] = time.monotonic() + 3
        started = time.monotonic()
        with ThreadPoolExecutor(connections) as pool:
            list(pool.map(worker, range(connections)))
        counts.clear()
        per_second.clear()

        started = time.monotonic()
        stop_at[0] = started + seconds
        with ThreadPoolExecutor(connections) as pool:
            list(pool.map(worker, range(connections)))
        elapsed = time.monotonic() - started
    finally:
        _stop(gunicorn, "gunicorn")
    totals: dict[int, int] = {}
    for codes in counts:
        for code, count in codes.items():
            totals[code] = totals.get(code, 0) + count
    created = totals.get(201, 0)
    rate = created / elapsed
    seconds_seen = [per_second.get(s, 0) for s in range(int(elapsed))]
    per_worker = threads if worker_class == "gthread" else 1
    print(
        f"throughput (gunicorn 2 {worker_class} workers x {per_worker} threads, "
        f"{connections} connections, "
        f"{elapsed:.0f} s): {rate:.0f} referrals/s; answers {dict(sorted(totals.items()))}; "
        f"per second min {min(seconds_seen, default=0)} max {max(seconds_seen, default=0)}"
        f"   [load {_load()}]",
        flush=True,
    )
    return rate


# --- 3. delivery latency through Redis and a Celery worker ------------------------------------


def _receiver(port: int, queue) -> None:
    """Its own process, so the timestamps do not wait for the benchmark's GIL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                payload = json.loads(body)
            except ValueError:
                return
            queue.put((arrived, self.headers.get("webhook-id"), payload))

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def bench_delivery(data: dict, count: int, rate_per_s: float) -> tuple[float, float]:
    import redis
    from django.conf import settings
    from django.test import Client

    from integrations import services
    from integrations.models import Endpoint

    redis.Redis.from_url(BENCH_REDIS).flushdb()  # only this benchmark's DB number
    port = _free_port()
    queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receiver, args=(port, queue), daemon=True)
    receiver.start()
    Endpoint.objects.filter(organisation_id=data["receiving"]).delete()
    endpoint = Endpoint.objects.create(
        organisation_id=data["receiving"],
        kind=Endpoint.Kind.WEBHOOK,
        url=f"http://127.0.0.1:{port}/hooks",
    )

    env = {**os.environ, **BENCH_ENV, "CELERY_BROKER_URL": BENCH_REDIS}
    worker = subprocess.Popen(  # noqa: S603 - our own command
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "config",
            "worker",
            "--queues",
            "deliveries,celery",  # settings.CELERY_TASK_ROUTES sends deliveries to their own
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
    )
    latencies: list[float] = []
    try:
        assert settings.CELERY_BROKER_URL == BENCH_REDIS
        # Readiness: a test event must arrive before we start timing.
        services.delivery_create(
            endpoint=endpoint, event_type="endpoint.test", payload={"type": "endpoint.test"}
        )
        try:
            queue.get(timeout=60)
        except Exception:
            raise SystemExit("the Celery worker did not deliver a test event within 60 s") from None

        client = Client(HTTP_AUTHORIZATION=f"Token {data['token']}")
        gap = 1.0 / rate_per_s
        next_at = time.monotonic()
        for n in range(count):
            body = json.dumps(referral_body(data["receiving_service"], 20_000_000 + n))
            answer = client.post(
                "/api/v1/referrals/",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )
            if answer.status_code != 201:
                raise SystemExit(f"create answered {answer.status_code}: {answer.content[:300]!r}")
            next_at += gap
            time.sleep(max(0.0, next_at - time.monotonic()))

        deadline = time.monotonic() + 60
        while len(latencies) < count and time.monotonic() < deadline:
            try:
                arrived, _, payload = queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except Exception:
                break
            if payload.get("type") != "referral.created":
                continue
            created = datetime.fromisoformat(payload["timestamp"]).timestamp()
            latencies.append((arrived - created) * 1000)
    finally:
        _stop(worker, "celery worker")
        receiver.terminate()
        receiver.join(timeout=5)
    if len(latencies) < count:
        print(f"delivery: only {len(latencies)} of {count} arrived within 60 s", flush=True)
    p50, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
    print(
        f"delivery (Redis + 1 Celery worker x2, {len(latencies)} referrals at {rate_per_s:g}/s): "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(latencies):.0f} ms   [load {_load()}]",
        flush=True,
    )
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="in-process creates")
    parser.add_argument("--seconds", type=int, default=30, help="throughput run length")
    parser.add_argument("--connections", type=int, default=8, help="load generator threads")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--deliveries", type=int, default=200, help="referrals timed to receipt")
    parser.add_argument("--rate", type=float, default=10.0, help="referrals per second, step 3")
    parser.add_argument("--create-only", action="store_true", help="only step 1")
    args = parser.parse_args()

    os.environ.update(BENCH_ENV)
    os.environ["CELERY_BROKER_URL"] = BENCH_REDIS
    _ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"frontdoor referral benchmark on {BENCH_DB}; {os.cpu_count()} CPUs; load {_load()}")
    data = setup_data()

    create_p50, create_p95, create_queries = bench_create(data, args.requests)
    if args.create_only:
        print(
            json.dumps(
                {
                    "create_p50_ms": round(create_p50, 1),
                    "create_queries_per_request": create_queries,
                }
            )
        )
        return
    throughput = bench_throughput(
        data, args.seconds, args.connections, args.worker_class, args.threads
    )
    _cancel_waiting_deliveries()
    delivery_p50, delivery_p95 = bench_delivery(data, args.deliveries, args.rate)

    print(
        json.dumps(
            {
                "create_p50_ms": round(create_p50, 1),
                "create_p95_ms": round(create_p95, 1),
                "create_queries_per_request": create_queries,
                "throughput_per_s": round(throughput, 1),
                "delivery_p50_ms": round(delivery_p50, 1),
                "delivery_p95_ms": round(delivery_p95, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
