"""The referral benchmarks' ground: a database and Redis of their own, production-shaped
settings, and demo-like data (services, a crew token, a partner's webhook endpoint).

Shared by bench/referrals.py and bench/broker_down.py. Every person in it is fictional
(999-range NHS numbers).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fd_h7_bench")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")

# Production-shaped settings for a benchmark's processes (gunicorn, the worker, the search's
# in-process requests): DEBUG off, but plain http on loopback (no TLS terminator here) and
# loopback webhook targets allowed.
PRODUCTION_SHAPE = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
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
BENCH_ENV = {**PRODUCTION_SHAPE, "DATABASE_URL": BENCH_DB}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_now() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ensure_database() -> None:
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


def cancel_waiting_deliveries() -> None:
    from integrations.models import Delivery

    Delivery.objects.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.CANCELLED)
