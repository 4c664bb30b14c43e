"""Referral creates while the broker is down: how long a crew waits (target: under 100 ms).

    .venv/bin/python bench/broker_down.py [--requests 200] [--broker dead|silent]

`dead`: CELERY_BROKER_URL points at a port nobody listens on (Redis stopped). `silent`: a
listener that accepts connections and never answers (a hung broker or a dropped network
path), the worst case, bounded by DELIVERY_ENQUEUE_TIMEOUT_MS. Creates run in-process through
the real endpoint with a crew's token, and each one's after-commit enqueue runs as in
production. Every delivery must still be in the outbox afterwards.

Not a test. Uses its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/fd_deliveries_bench, created if missing) and the data of
bench/referrals_setup.py. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fd_deliveries_bench"
)

from bench import referrals_setup as base  # noqa: E402


def _silent_broker() -> str:
    """Accepts connections, never answers; they stay open until the process ends."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return f"redis://127.0.0.1:{server.getsockname()[1]}/0"


def _dead_broker() -> str:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--broker", choices=["dead", "silent"], default="dead")
    args = parser.parse_args()

    broker = _dead_broker() if args.broker == "dead" else _silent_broker()
    os.environ.update(base.BENCH_ENV)
    os.environ["CELERY_BROKER_URL"] = broker
    base.ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client, override_settings

    from integrations.models import Delivery

    call_command("migrate", verbosity=0)
    print(
        f"creates with the broker {args.broker} ({broker}) on {base.BENCH_DB}; "
        f"{os.cpu_count()} CPUs; load {base.load_now()}",
        flush=True,
    )
    data = base.setup_data()
    client = Client(HTTP_AUTHORIZATION=f"Token {data['token']}")
    services = data["load_services"]

    def creates(count: int, offset: int) -> list[float]:
        timings = []
        for n in range(offset, offset + count):
            body = json.dumps(base.referral_body(services[n % len(services)], n))
            started = time.perf_counter()
            answer = client.post(
                "/api/v1/referrals/",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )
            timings.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 201:
                raise SystemExit(f"create answered {answer.status_code}: {answer.content[:300]!r}")
        return timings

    # Warm up, then the same creates with no broker configured at all: the baseline.
    with override_settings(CELERY_BROKER_URL=""):
        creates(20, 500_000)
        baseline = creates(args.requests, 510_000)
    before = Delivery.objects.filter(status=Delivery.Status.PENDING).count()
    timings = creates(args.requests, 600_000)
    waiting = Delivery.objects.filter(status=Delivery.Status.PENDING).count() - before
    p50, p95 = statistics.median(timings), base.percentile(timings, 0.95)
    print(
        f"create with no broker ({len(baseline)} requests): "
        f"p50 {statistics.median(baseline):.1f} ms, "
        f"p95 {base.percentile(baseline, 0.95):.1f} ms, max {max(baseline):.1f} ms",
        flush=True,
    )
    print(
        f"create with the broker {args.broker} ({len(timings)} requests): p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, first {timings[0]:.1f} ms, max {max(timings):.1f} ms; "
        f"{waiting} deliveries waiting in the outbox   [load {base.load_now()}]",
        flush=True,
    )
    base.cancel_waiting_deliveries()
    print(
        json.dumps(
            {
                "broker": args.broker,
                "baseline_p50_ms": round(statistics.median(baseline), 1),
                "create_p50_ms": round(p50, 1),
                "create_p95_ms": round(p95, 1),
                "create_max_ms": round(max(timings), 1),
                "outbox_waiting": waiting,
            }
        )
    )


if __name__ == "__main__":
    main()
