"""Operators hear when deliveries are due and nothing is sending them (no worker, no loop)."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from integrations import sending
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral

CHANGELIST = "/admin/integrations/delivery/"


@pytest.fixture
def stalled(crew, service, provider, receiver):
    """A referral's delivery, due two minutes ago, that no sender has touched."""
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    return Delivery.objects.get()


def test_it_exits_non_zero_when_due_deliveries_are_not_being_sent(stalled, capsys):
    with pytest.raises(CommandError) as stall:
        call_command("delivery_status")
    assert "1 deliveries have been due since" in str(stall.value)
    assert "run_deliveries" in str(stall.value)  # no broker configured: the loop is missing
    assert "stalled: 1" in capsys.readouterr().out


def test_it_names_the_worker_when_a_broker_is_configured(stalled, settings):
    settings.CELERY_BROKER_URL = "redis://:secret@broker.invalid:6379/0"
    with pytest.raises(CommandError) as stall:
        call_command("delivery_status")
    assert "celery -A config worker" in str(stall.value)
    assert "secret" not in str(stall.value)


def test_it_is_content_once_a_sender_has_tried_them(stalled, capsys):
    sending.deliveries_send_due()
    call_command("delivery_status")
    assert "ok: deliveries are being sent" in capsys.readouterr().out


def test_a_delivery_due_only_just_now_is_not_a_stall(crew, service, provider, capsys):
    make_endpoint(provider)
    make_referral(crew, service)
    call_command("delivery_status")
    assert "stalled: 0" in capsys.readouterr().out


def test_deliveries_waiting_behind_a_busy_endpoint_are_not_a_stall(
    stalled, crew, service, settings
):
    settings.DELIVERY_ENDPOINT_CONCURRENCY = 1
    # Another delivery to the same endpoint is in flight (a slow partner); this one waits.
    make_referral(crew, service)
    Delivery.objects.exclude(pk=stalled.pk).update(
        locked_until=timezone.now() + timedelta(minutes=1)
    )
    call_command("delivery_status")


def test_operators_see_the_stall_in_the_admin(stalled, operator):
    client = Client()
    client.force_login(operator)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert b"have been due since" in page.content


def test_the_admin_says_nothing_when_deliveries_flow(operator, crew, service, provider):
    make_endpoint(provider)
    make_referral(crew, service)
    client = Client()
    client.force_login(operator)
    assert b"have been due since" not in client.get(CHANGELIST).content
