"""The demo at 07:40 on a weekday: a crew can refer a within-4h falls patient to one of the
demo partner's services that opens at 08:00."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from directory.demo import seed_demo
from directory.models import Service, User
from directory.search import search_query_from_params, service_search
from referrals import services
from tests.referrals.factories import validated

LONDON = ZoneInfo("Europe/London")
WEDNESDAY_0740 = datetime(2026, 6, 10, 7, 40, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def demo_settings(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_crew_refers_a_within_4h_falls_patient_at_0740_to_a_partner_service_opening_at_8(db):
    seed_demo(now=WEDNESDAY_0740 - timedelta(minutes=30))
    crew = User.objects.get(username="demo-crew")
    partner = User.objects.get(username="demo-partner")
    partners_falls = Service.objects.filter(
        organisation=partner.organisation, categories__code="falls"
    ).select_related("location")
    found = None
    for service in partners_falls:
        query = search_query_from_params(
            {
                "lat": service.location.latitude,
                "lon": service.location.longitude,
                "category": "falls",
                "age": "84",
                "within": "4h",
                "open": "true",
                "at": WEDNESDAY_0740.isoformat(),
            }
        )
        results = {r["id"]: r for r in service_search(query=query).results}
        if service.pk in results and results[service.pk]["opens_in_minutes"] == 20:
            found = service
            break
    assert found is not None, "no demo partner falls service opening at 08:00 fits"

    referral = services.referral_create(
        user=crew,
        data=validated(found, urgency="within_4h", patient={**_patient(), "postcode": ""}),
        now=WEDNESDAY_0740,
    )
    assert referral.status == "sent"


def _patient() -> dict:
    from tests.referrals.factories import referral_body

    return referral_body(Service(pk=0))["patient"]
