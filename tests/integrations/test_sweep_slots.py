"""With a broker, the sweep queues no more than each endpoint's free send slots, and each
finished send queues its endpoint's next due delivery: a backlog drains without the queue
filling with tasks that find nothing to send, and a lost task is queued again after its
lease. The broker here is kombu's in-memory one; test_celery_worker.py runs a real one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from integrations import queueing, sending, tasks
from integrations.models import Delivery
from tests.integrations.conftest import make_endpoint, make_referral

BROKER = "memory://"


@pytest.fixture
def broker(settings, monkeypatch):
    settings.CELERY_BROKER_URL = BROKER
    settings.DELIVERY_ENDPOINT_CONCURRENCY = 2
    settings.DELIVERY_SWEEP_SECONDS = 5
    monkeypatch.setattr(queueing, "_broker_quiet_until", 0.0)
    previous = app.conf.broker_url
    app.conf.broker_url = BROKER
    app.close()
    with app.connection_for_read(BROKER) as conn:
        conn.default_channel.queue_purge("deliveries")
    yield
    queueing._publisher_drop()
    app.conf.broker_url = previous
    app.close()


def _take_queued() -> list[int]:
    """The delivery ids of the deliver tasks waiting in the queue, taken off it in order."""
    ids = []
    with app.connection_for_read(BROKER) as conn:
        while (message := conn.default_channel.basic_get("deliveries", no_ack=True)) is not None:
            args, _kwargs, _embed = message.decode()
            ids.append(args[0])
    return ids


@pytest.fixture
def backlog(crew, service, provider, receiver):
    """Ten referrals' deliveries to one partner, written while no task was queued for them."""
    make_endpoint(provider, url=receiver.url)
    for _ in range(10):
        make_referral(crew, service)
    # Their tasks were lost (e.g. the broker restarted) and their queued marks ran out.
    Delivery.objects.update(queued_until=None)
    return list(Delivery.objects.order_by("id").values_list("id", flat=True))


def test_it_marks_a_delivery_queued_as_it_is_written_so_nothing_queues_it_twice(
    broker, crew, service, provider, receiver
):
    make_endpoint(provider, url=receiver.url)
    make_referral(crew, service)
    delivery = Delivery.objects.get()
    assert delivery.queued_until is not None  # its own task is published after commit

    assert queueing.deliveries_enqueue_due() == 0
    assert _take_queued() == []


def test_it_queues_no_more_than_the_endpoints_free_send_slots(broker, backlog):
    assert queueing.deliveries_enqueue_due() == 2
    assert _take_queued() == backlog[:2]


def test_it_counts_a_send_in_flight_against_the_slots(broker, backlog):
    Delivery.objects.filter(pk=backlog[0]).update(
        locked_until=timezone.now() + timedelta(minutes=1)
    )
    queueing.deliveries_enqueue_due()
    assert _take_queued() == [backlog[1]]


def test_it_does_not_queue_again_what_a_queued_task_has_yet_to_send(broker, backlog):
    queueing.deliveries_enqueue_due()
    queueing.deliveries_enqueue_due()
    queueing.deliveries_enqueue_due()
    assert _take_queued() == backlog[:2]


def test_it_queues_again_when_a_lost_tasks_lease_runs_out(broker, backlog):
    queueing.deliveries_enqueue_due()
    _take_queued()  # lost: no worker ever runs them

    queueing.deliveries_enqueue_due(now=timezone.now() + timedelta(seconds=11))
    assert _take_queued() == backlog[:2]


def test_it_queues_the_endpoints_next_delivery_when_a_send_finishes(broker, backlog, receiver):
    queueing.deliveries_enqueue_due()
    first, second = _take_queued()
    tasks.deliver(first)
    assert len(receiver.received) == 1
    assert _take_queued() == [backlog[2]]


def test_it_drains_a_backlog_with_no_task_that_finds_nothing_to_send(broker, backlog, receiver):
    queueing.deliveries_enqueue_due()
    tasks_run = 0
    while queued := _take_queued():
        for delivery_id in queued:
            tasks.deliver(delivery_id)
            tasks_run += 1
        queueing.deliveries_enqueue_due()  # beat keeps sweeping meanwhile

    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert len(receiver.received) == 10
    assert tasks_run == 10


def test_it_leaves_a_task_that_found_its_endpoint_busy_to_the_next_finished_send(
    broker, backlog, receiver
):
    queueing.deliveries_enqueue_due()
    first, second = _take_queued()
    # Another sender (the task queued after a create commits) took the endpoint's two slots.
    later = timezone.now() + timedelta(minutes=1)
    Delivery.objects.filter(pk__in=backlog[8:]).update(locked_until=later)
    assert sending.delivery_send(delivery_id=first, queue_next=True) is None
    Delivery.objects.filter(pk__in=backlog[8:]).update(locked_until=None)

    tasks.deliver(second)
    assert _take_queued() == [first, backlog[2]]
