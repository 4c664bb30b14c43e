"""The embedded loop (no Celery) sends what is due and expires unanswered referrals."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from integrations import sending
from integrations.models import Delivery
from referrals.models import Referral
from tests.integrations.conftest import make_endpoint, make_referral


def test_its_loop_body_sends_every_due_delivery(crew, service, provider, receiver):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    make_referral(crew, service)
    call_command("run_deliveries", "--once")
    assert len(receiver.received) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_it_leaves_deliveries_that_are_not_due_yet(crew, service, provider, receiver):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert sending.deliveries_send_due() == 0
    assert receiver.received == []
    assert sending.deliveries_send_due(now=timezone.now() + timedelta(minutes=6)) == 1
    assert len(receiver.received) == 1


def test_it_expires_unanswered_referrals_and_tells_the_crew(
    crew, service, ambulance_trust, receiver
):
    make_endpoint(ambulance_trust, url=receiver.url)
    referral = make_referral(crew, service)
    Referral.objects.filter(pk=referral.pk).update(
        acknowledge_due_at=timezone.now() - timedelta(minutes=1)
    )
    call_command("run_deliveries", "--once")
    referral.refresh_from_db()
    assert referral.status == "expired"
    (request,) = receiver.received
    assert request.json()["type"] == "referral.expired"
