"""manage.py seed_demo: fictional London demo data, safe to run again and again."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from directory.demo import seed_demo
from directory.demo_data import OUTWARD_CODES
from directory.geo import great_circle_km
from directory.models import (
    ICS,
    Borough,
    Location,
    OpeningSpan,
    Organisation,
    Postcode,
    Service,
    User,
)
from integrations.models import Endpoint


@pytest.fixture(autouse=True)
def demo_settings(settings):
    settings.DEBUG = True  # as in development, where the demo runs (tests run with it off)
    # Hashing four demo passwords at full strength would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args) -> str:
    """The command, as `make run` runs it (with the referral activity for the reports)."""
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def seed_directory() -> None:
    """Only the directory part of the command, for tests that look at nothing else."""
    seed_demo()


def snapshot() -> dict:
    return {
        "organisations": list(Organisation.objects.order_by("pk").values_list("pk", "name")),
        "services": list(Service.objects.order_by("pk").values_list("pk", "name", "updated_at")),
        "capacity": list(
            Service.objects.order_by("pk").values_list(
                "capacity_status", "capacity_slots", "capacity_expires_at"
            )
        ),
        "locations": Location.objects.count(),
        "spans": OpeningSpan.objects.count(),
        "postcodes": list(Postcode.objects.order_by("pk").values_list("pk", "latitude")),
        "users": list(User.objects.order_by("pk").values_list("pk", "username", "password")),
    }


def test_it_changes_nothing_when_run_again(db):
    seed()
    before = snapshot()
    report = seed()
    assert snapshot() == before
    assert "Demo data already in place." in report


def test_it_renews_lapsed_demo_capacity_but_leaves_the_expired_examples_expired(db):
    seed_directory()
    live = {s.pk for s in Service.objects.all() if s.capacity_at() != "UNKNOWN"}
    expired = set(
        Service.objects.filter(capacity_expires_at__isnull=False)
        .exclude(pk__in=live)
        .values_list("pk", flat=True)
    )
    assert live and expired
    later = timezone.now() + timedelta(days=3)
    seed_demo(now=later)
    renewed = {s.pk for s in Service.objects.all() if s.capacity_at(later) != "UNKNOWN"}
    assert renewed == live


def test_it_puts_at_least_five_services_in_every_borough(db):
    seed_directory()
    per_borough = dict(
        Service.objects.values_list("location__borough__name").annotate(n=Count("id"))
    )
    assert len(per_borough) == 33
    assert min(per_borough.values()) >= 5


def test_it_places_services_near_their_boroughs_centre_with_a_postcode_of_that_borough(db):
    seed_directory()
    for location in Location.objects.select_related("borough"):
        borough = location.borough
        distance = great_circle_km(
            location.latitude,
            location.longitude,
            borough.centre_latitude,
            borough.centre_longitude,
        )
        assert distance <= 1.5, (location, borough)
        assert location.postcode.split()[0] in OUTWARD_CODES[borough.gss_code]


def test_it_loads_every_demo_postcode_with_its_place_and_borough(db):
    seed_directory()
    postcodes = {p.postcode: p for p in Postcode.objects.all()}
    for location in Location.objects.all():
        row = postcodes[location.postcode]
        assert (row.latitude, row.longitude) == (location.latitude, location.longitude)
        assert row.borough_id == location.borough_id


def test_it_gives_every_ics_an_emergency_department(db):
    seed_directory()
    with_ed = set(
        Service.objects.filter(categories__code="emergency-department").values_list(
            "location__borough__ics", flat=True
        )
    )
    assert with_ed == set(ICS.values)


def test_it_varies_hours_capacity_and_eligibility(db):
    seed_directory()
    statuses = {s.capacity_at() for s in Service.objects.all()}
    assert statuses == {"GREEN", "AMBER", "RED", "UNKNOWN"}
    assert Service.objects.filter(capacity_slots__gt=0).exists()
    assert Service.objects.filter(sexes=["female"], min_age=16, max_age=55).exists()
    assert Service.objects.filter(min_age=65).exists()
    assert Service.objects.filter(max_age=17).exists()
    assert Service.objects.filter(boroughs_covered__isnull=False).exists()
    assert OpeningSpan.objects.filter(opens="20:00", closes="08:00").exists()  # overnight
    assert OpeningSpan.objects.filter(opens="18:00", closes="23:00").exists()  # evenings
    assert OpeningSpan.objects.filter(weekday=5, opens="09:00", closes="17:00").exists()


def test_it_gives_the_demo_partner_several_services_across_categories_and_boroughs(db):
    seed_directory()
    partner = User.objects.get(username="demo-partner")
    services = Service.objects.filter(organisation=partner.organisation)
    assert services.count() >= 5
    assert services.values("location__borough").distinct().count() >= 3
    assert services.values("categories").distinct().count() >= 3


def test_it_lets_the_demo_users_log_in_with_the_demo_password(db, settings):
    settings.DEMO_PASSWORD = "a-different-demo-password"
    report = seed()
    for username, role in [
        ("demo-crew", "crew"),
        ("demo-partner", "partner"),
        ("demo-planner", "planner"),
        ("demo-operator", "operator"),
    ]:
        answer = APIClient().post(
            "/api/v1/auth/token/",
            {"username": username, "password": "a-different-demo-password"},
            format="json",
        )
        assert answer.status_code == 201, username
        assert User.objects.get(username=username).role == role
        assert username in report
    assert User.objects.get(username="demo-crew").organisation.ods_code == "RRU"
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) == {
        "demo-partner",
        "demo-operator",
    }


def test_it_lets_the_demo_partner_into_the_admin(db, client, settings):
    seed_directory()
    # Through the login page: django-axes needs the request that carries the password.
    answer = client.post(
        "/login/", {"username": "demo-partner", "password": settings.DEMO_PASSWORD}
    )
    assert answer.status_code == 302
    assert client.get("/admin/directory/service/").status_code == 200


def test_it_finds_services_near_the_centre_of_every_borough(db):
    seed_directory()
    api = APIClient()
    api.force_authenticate(User.objects.get(username="demo-crew"))
    for borough in Borough.objects.all():
        answer = api.get(
            "/api/v1/services/search/",
            {"lat": borough.centre_latitude, "lon": borough.centre_longitude, "radius_km": 3},
        )
        assert answer.status_code == 200, borough
        assert answer.json()["count"] > 0, borough


def test_it_refuses_to_run_with_debug_off_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        seed()
    assert not Service.objects.exists()
    seed("--force")
    assert Service.objects.count() >= 5 * 33


def test_it_gives_the_demo_partner_an_email_and_a_webhook_endpoint(db, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True  # as in development
    settings.DEMO_RECEIVER_PORT = 8124
    seed()
    partner = User.objects.get(username="demo-partner")
    endpoints = {
        e.kind: e.url or e.email for e in Endpoint.objects.filter(organisation=partner.organisation)
    }
    assert endpoints == {
        "email": "referrals@demo-partner.invalid",
        "webhook": "http://127.0.0.1:8124/frontdoor/webhook",
    }
    settings.DEMO_RECEIVER_PORT = 8126  # served elsewhere next time: the webhook follows
    seed()
    assert Endpoint.objects.get(kind="webhook").url == "http://127.0.0.1:8126/frontdoor/webhook"
    assert Endpoint.objects.count() == 2
