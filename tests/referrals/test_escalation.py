"""An unacknowledged referral escalates once its urgency's deadline passes: an event, the
partner's endpoints and escalation email, the crew's organisation, and the crew's page
says "No answer yet" with the service's professional phone. Time is moved, never slept."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import Delivery, Endpoint
from referrals import services
from referrals.models import ReferralEvent
from tests.referrals.factories import validated

SENT_AT = datetime(2026, 6, 10, 14, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def endpoints(provider, ambulance_trust):
    provider.escalation_email = "duty-manager@example.org"
    provider.save()
    return {
        "partner": Endpoint.objects.create(
            organisation=provider, kind=Endpoint.Kind.WEBHOOK, url="https://partner.example/hook"
        ),
        "crew": Endpoint.objects.create(
            organisation=ambulance_trust, kind=Endpoint.Kind.EMAIL, email="eoc@example.org"
        ),
    }


def _send(crew, service, urgency="within_1h", now=SENT_AT):
    return services.referral_create(user=crew, data=validated(service, urgency=urgency), now=now)


def _escalations(referral):
    return ReferralEvent.objects.filter(referral=referral, action="escalate")


def test_it_escalates_exactly_once_when_the_deadline_passes(crew, service, endpoints, settings):
    settings.ESCALATE_WITHIN_1H_MINUTES = 10
    referral = _send(crew, service)

    before = services.referrals_escalate_overdue(now=SENT_AT + timedelta(minutes=9, seconds=59))
    at_deadline = services.referrals_escalate_overdue(now=SENT_AT + timedelta(minutes=10))
    again = services.referrals_escalate_overdue(now=SENT_AT + timedelta(minutes=11))

    assert (before, at_deadline, again) == (0, 1, 0)
    event = _escalations(referral).get()
    assert (event.from_status, event.to_status, event.event_type) == (
        "sent",
        "sent",
        "referral.escalated",
    )
    referral.refresh_from_db()
    assert referral.status == "sent"
    assert referral.escalated_at == SENT_AT + timedelta(minutes=10)


def test_it_tells_every_partner_endpoint_the_escalation_email_and_the_crew(
    crew, service, endpoints
):
    _send(crew, service)
    services.referrals_escalate_overdue(now=SENT_AT + timedelta(hours=1))
    services.referrals_escalate_overdue(now=SENT_AT + timedelta(hours=2))

    told = Delivery.objects.filter(event_type="referral.escalated")
    targets = sorted(d.endpoint.url or d.endpoint.email for d in told)
    assert targets == [
        "duty-manager@example.org",
        "eoc@example.org",
        "https://partner.example/hook",
    ]
    # The escalation email hears of escalations only, not of every event.
    escalation_endpoint = Endpoint.objects.get(escalations_only=True)
    assert set(escalation_endpoint.deliveries.values_list("event_type", flat=True)) == {
        "referral.escalated"
    }


def test_it_does_not_escalate_an_acknowledged_referral(crew, partner, service, endpoints):
    referral = _send(crew, service)
    services.referral_transition(
        referral_id=referral.pk, user=partner, action="acknowledge", now=SENT_AT
    )
    assert services.referrals_escalate_overdue(now=SENT_AT + timedelta(hours=1)) == 0
    assert not _escalations(referral).exists()


def test_each_urgency_has_its_own_deadline(crew, service, settings):
    settings.ESCALATE_WITHIN_4H_MINUTES = 30
    referral = _send(crew, service, urgency="within_4h")
    assert services.referrals_escalate_overdue(now=SENT_AT + timedelta(minutes=29)) == 0
    assert services.referrals_escalate_overdue(now=SENT_AT + timedelta(minutes=30)) == 1
    assert _escalations(referral).count() == 1


def test_the_referrals_sweep_that_expires_referrals_escalates_them_once(crew, service, settings):
    settings.ESCALATE_WITHIN_1H_MINUTES = 10
    referral = _send(crew, service, now=timezone.now() - timedelta(minutes=15))

    services.referrals_sweep()
    services.referrals_sweep()

    assert _escalations(referral).count() == 1


def test_the_crews_page_says_no_answer_yet_with_the_professional_phone(crew, service):
    service.professional_phone = "020 7946 0999"
    service.save()
    referral = _send(crew, service)
    browser = Client()
    browser.force_login(crew)
    page = f"/referrals/{referral.pk}/"
    assert "No answer yet" not in browser.get(page).content.decode()

    services.referrals_escalate_overdue(now=SENT_AT + timedelta(hours=1))
    html = browser.get(page).content.decode()

    assert "No answer yet" in html
    assert '<p class="nhsuk-heading-xl"><a href="tel:020 7946 0999">020 7946 0999</a></p>' in html
