"""Deliveries: the transactional outbox and the one sending path. (Being built.)"""

from __future__ import annotations


def deliveries_create_for_event(*, event) -> list:
    """Write one Delivery per endpoint that must hear of this event, in the caller's transaction."""
    return []
