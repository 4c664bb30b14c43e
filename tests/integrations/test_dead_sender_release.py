"""A sender killed mid-send on this host: its deliveries go to the next sender at once, not
when its lease runs out; live senders' and other hosts' are left alone."""

import os
import socket
import subprocess
import sys
from datetime import timedelta

from django.utils import timezone

from integrations import sending, tasks
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral


def _gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _held_by(holder: str) -> Delivery:
    Delivery.objects.update(
        locked_until=timezone.now() + timedelta(seconds=34),
        locked_by=holder,
        attempt_count=1,
    )
    return Delivery.objects.get()


def test_a_claim_records_which_process_on_which_host_holds_the_delivery(
    provider, crew, service, receiver
):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    delivery = Delivery.objects.get()
    assert sending._claim(delivery_id=delivery.pk, now=timezone.now()) is not None
    delivery.refresh_from_db()
    assert delivery.locked_by == f"{socket.gethostname()}:{os.getpid()}"


def test_it_hands_a_killed_senders_delivery_to_the_next_sender_at_once(
    provider, crew, service, receiver
):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    delivery = _held_by(f"{socket.gethostname()}:{_gone_pid()}")
    assert sending.deliveries_due() == []

    assert sending.leases_of_dead_senders_release() == 1
    assert sending.deliveries_due() == [delivery.pk]
    sent = sending.delivery_send(delivery_id=delivery.pk)
    assert sent.status == Delivery.Status.DELIVERED
    assert len(receiver.received) == 1


def test_the_sweep_frees_a_killed_workers_deliveries_before_it_queues(
    provider, crew, service, receiver
):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    _held_by(f"{socket.gethostname()}:{_gone_pid()}")
    tasks.sweep()
    assert Delivery.objects.get().locked_until is None


def test_it_leaves_a_live_senders_and_another_hosts_deliveries_to_their_leases(
    provider, crew, service, receiver
):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    for holder in (f"{socket.gethostname()}:{os.getpid()}", f"elsewhere:{_gone_pid()}"):
        _held_by(holder)
        assert sending.leases_of_dead_senders_release() == 0
        assert sending.deliveries_due() == []
