"""A referral may go to a service that opens within its urgency window (the search's rule),
and is refused, with the reason, when the service opens too late."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.errors import DomainError
from referrals import services
from referrals.models import Referral
from tests.factories import ServiceFactory
from tests.referrals.factories import validated

LONDON = ZoneInfo("Europe/London")
WEEKDAYS_8_TO_18 = [(d, "08:00", "18:00") for d in range(5)]
WEDNESDAY_0740 = datetime(2026, 6, 10, 7, 40, tzinfo=LONDON)


@pytest.fixture
def opens_at_8(provider):
    return ServiceFactory(organisation=provider, hours=WEEKDAYS_8_TO_18)


def _refer(crew, service, urgency, now):
    return services.referral_create(user=crew, data=validated(service, urgency=urgency), now=now)


def test_it_accepts_a_within_4h_referral_to_a_service_opening_in_20_minutes(crew, opens_at_8):
    referral = _refer(crew, opens_at_8, "within_4h", WEDNESDAY_0740)
    assert referral.status == "sent"


def test_the_partners_clocks_start_when_the_service_opens_not_when_the_crew_sends(crew, opens_at_8):
    referral = _refer(crew, opens_at_8, "within_4h", WEDNESDAY_0740)
    at_8 = WEDNESDAY_0740.replace(hour=8, minute=0)
    assert referral.acknowledge_due_at == at_8 + timedelta(minutes=30)
    assert referral.answer_due_at == at_8 + timedelta(minutes=120)
    assert referral.escalate_due_at > at_8

    # Ten minutes after opening, nobody has missed anything: the sweep leaves it open.
    services.referrals_sweep(now=at_8 + timedelta(minutes=10))
    referral.refresh_from_db()
    assert referral.status == "sent"
    services.referrals_sweep(now=at_8 + timedelta(minutes=121))
    referral.refresh_from_db()
    assert referral.status == "expired"


def test_it_refuses_a_within_1h_referral_to_a_service_opening_in_3_hours(crew, opens_at_8):
    at_0500 = WEDNESDAY_0740.replace(hour=5, minute=0)
    with pytest.raises(DomainError) as refused:
        _refer(crew, opens_at_8, "within_1h", at_0500)
    assert refused.value.status_code == 422
    assert refused.value.extra["reason"] == "closed"
    assert refused.value.extra["opens_at"] == "2026-06-10T08:00:00+01:00"
    assert "08:00" in refused.value.message
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    ("minutes_before", "accepted"), [(60, True), (61, False)], ids=["at the edge", "past it"]
)
def test_it_holds_the_window_to_the_minute(crew, opens_at_8, minutes_before, accepted):
    now = WEDNESDAY_0740.replace(hour=8, minute=0) - timedelta(minutes=minutes_before)
    if accepted:
        assert _refer(crew, opens_at_8, "within_1h", now).status == "sent"
    else:
        with pytest.raises(DomainError):
            _refer(crew, opens_at_8, "within_1h", now)


def test_the_api_names_the_reason_in_the_one_error_shape(api_as, crew, provider):
    # Never open: refused whatever the urgency, and the answer says why.
    shut = ServiceFactory(organisation=provider, hours=[])
    from tests.referrals.factories import referral_body

    answer = api_as(crew).post(
        "/api/v1/referrals/",
        referral_body(shut, urgency="within_24h"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-closed",
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["code"], error["reason"]) == ("referral_refused", "closed")


def test_it_accepts_a_closed_service_that_takes_referrals_when_closed(crew, provider):
    night_desk = ServiceFactory(organisation=provider, hours=[], accepts_referrals_when_closed=True)
    assert _refer(crew, night_desk, "within_1h", WEDNESDAY_0740).status == "sent"
