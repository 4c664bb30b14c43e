"""Referral benchmark against PostgreSQL: create latency, throughput, delivery latency.

    .venv/bin/python bench/referrals.py [--requests 300] [--seconds 30] [--deliveries 200]
        [--workers N] [--worker-class gthread|sync] [--threads N] [--port P] [--receiver-port R]

1. create: POST /api/v1/referrals/ in-process (Django test client, a crew token, a fresh
   Idempotency-Key each time) into demo-like services without counted slots: p50/p95.
2. throughput: gunicorn (production's config/gunicorn.py, DEBUG off) on 127.0.0.1 and a load
   generator on loopback (a thread pool of http.client keep-alive connections) for N
   seconds: 201s per second.
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
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.referrals_setup import (  # noqa: E402
    BENCH_DB,
    BENCH_ENV,
    BENCH_REDIS,
    cancel_waiting_deliveries,
    ensure_database,
    free_port,
    load_now,
    percentile,
    referral_body,
    setup_data,
)

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
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    print(
        f"create (in-process, {len(timings)} requests): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(timings):.1f} ms, {per_request:g} queries per create   [load {load_now()}]",
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
    data: dict,
    seconds: int,
    connections: int,
    worker_class: str | None = None,
    threads: int | None = None,
    workers: int | None = None,
    port: int = 0,
) -> float:
    """Production's gunicorn settings (config/gunicorn.py) unless told otherwise."""
    production = runpy.run_path(str(ROOT / "config/gunicorn.py"))
    worker_class = worker_class or production["worker_class"]
    workers = workers or production["workers"]
    threads = threads or production["threads"]
    port = port or free_port()
    env = {**os.environ, **BENCH_ENV}
    env.pop("CELERY_BROKER_URL", None)
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "--config",
        str(ROOT / "config/gunicorn.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--log-level",
        "warning",
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
        f"throughput (gunicorn {workers} {worker_class} workers x {per_worker} threads, "
        f"{connections} connections, "
        f"{elapsed:.0f} s): {rate:.0f} referrals/s; answers {dict(sorted(totals.items()))}; "
        f"per second min {min(seconds_seen, default=0)} max {max(seconds_seen, default=0)}"
        f"   [load {load_now()}]",
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


def bench_delivery(data: dict, count: int, rate_per_s: float, port: int = 0) -> tuple[float, float]:
    import redis
    from django.conf import settings
    from django.test import Client

    from integrations import outbox
    from integrations.models import Endpoint

    redis.Redis.from_url(BENCH_REDIS).flushdb()  # only this benchmark's DB number
    port = port or free_port()
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
        outbox.delivery_create(
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
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(
        f"delivery (Redis + 1 Celery worker x2, {len(latencies)} referrals at {rate_per_s:g}/s): "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(latencies):.0f} ms   [load {load_now()}]",
        flush=True,
    )
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="in-process creates")
    parser.add_argument("--seconds", type=int, default=30, help="throughput run length")
    parser.add_argument("--connections", type=int, default=8, help="load generator threads")
    # Unless given, gunicorn's settings are production's (config/gunicorn.py).
    parser.add_argument("--worker-class", choices=["gthread", "sync"])
    parser.add_argument("--threads", type=int, help="threads per gthread worker")
    parser.add_argument("--workers", type=int, help="gunicorn worker processes")
    # Fixed ports (also from the environment, so that bench/run.py passes them through) for
    # a machine shared with others' servers; 0: one the kernel says is free.
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("BENCH_PORT", 0)), help="gunicorn's port"
    )
    parser.add_argument(
        "--receiver-port",
        type=int,
        default=int(os.environ.get("BENCH_RECEIVER_PORT", 0)),
        help="the webhook receiver's port",
    )
    parser.add_argument("--deliveries", type=int, default=200, help="referrals timed to receipt")
    parser.add_argument("--rate", type=float, default=10.0, help="referrals per second, step 3")
    parser.add_argument("--create-only", action="store_true", help="only step 1")
    args = parser.parse_args()

    os.environ.update(BENCH_ENV)
    os.environ["CELERY_BROKER_URL"] = BENCH_REDIS
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"frontdoor referral benchmark on {BENCH_DB}; {os.cpu_count()} CPUs; load {load_now()}")
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
        data,
        args.seconds,
        args.connections,
        args.worker_class,
        args.threads,
        workers=args.workers,
        port=args.port,
    )
    cancel_waiting_deliveries()
    delivery_p50, delivery_p95 = bench_delivery(
        data, args.deliveries, args.rate, port=args.receiver_port
    )

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
