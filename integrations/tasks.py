"""Celery tasks: thin. They take ids and call services; retry timing lives in the database."""

from __future__ import annotations

from celery import shared_task

from integrations import queueing, sending


@shared_task(name=queueing.DELIVER_TASK, ignore_result=True)
def deliver(delivery_id: int) -> None:
    """Send one delivery if it is due and nobody else holds it (else do nothing), then queue
    its endpoint's next due deliveries into the send slots free."""
    sending.delivery_send(delivery_id=delivery_id, queue_next=True)


@shared_task(name="integrations.sweep", ignore_result=True)
def sweep() -> int:
    """Beat: queue due deliveries into each endpoint's free send slots.

    This is what makes a lost task, a killed worker or a restarted broker only a delay;
    a killed worker's sends on this host are freed first, rather than at their lease's end.
    """
    sending.leases_of_dead_senders_release()
    return queueing.deliveries_enqueue_due()
