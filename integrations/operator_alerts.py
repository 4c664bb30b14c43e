"""Operators told by email: a delivery that failed for good, an endpoint switched off.

Mail that cannot be sent is logged, never raised: the send it follows is already on record.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from integrations.models import Delivery, Endpoint

logger = logging.getLogger(__name__)


def _operator_addresses() -> list[str]:
    from directory.models import Role, User

    users = User.objects.filter(role=Role.OPERATOR, is_active=True).exclude(email="")
    return sorted({*settings.OPERATOR_EMAILS, *users.values_list("email", flat=True)})


def tell_operators_of_failure(delivery_id: int) -> None:
    delivery = Delivery.objects.select_related("endpoint__organisation").get(pk=delivery_id)
    recipients = _operator_addresses()
    if not recipients:
        logger.warning("delivery %s failed and no operator has an email address", delivery_id)
        return
    endpoint = delivery.endpoint
    body = (
        f"Delivery {delivery.pk} ({delivery.event_type}) to {endpoint.organisation.name} "
        f"via {endpoint.get_kind_display()} failed after {delivery.attempt_count} attempts.\n"
        f"Last error: {delivery.last_error}\n\n"
        f"Replay it from {settings.SITE_URL}/admin/integrations/delivery/{delivery.pk}/change/\n"
    )
    try:
        send_mail(
            f"frontdoor: delivery {delivery.pk} failed",
            body,
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )
    except Exception:
        logger.exception("could not email operators about failed delivery %s", delivery_id)


def tell_operators_of_disabled_endpoint(endpoint_id: int) -> None:
    """A partner's receiver said 410 Gone: nothing more goes there until an operator (or the
    partner) switches it back on and replays what was cancelled, so someone must know."""
    endpoint = Endpoint.objects.select_related("organisation").get(pk=endpoint_id)
    recipients = _operator_addresses()
    if not recipients:
        logger.warning("endpoint %s was disabled and no operator has an email address", endpoint_id)
        return
    body = (
        f"The {endpoint.get_kind_display()} endpoint of {endpoint.organisation.name} was "
        f"switched off: {endpoint.disabled_reason}.\n"
        f"Its pending deliveries are cancelled; new events are not sent there.\n\n"
        f"Switch it back on and replay them from "
        f"{settings.SITE_URL}/admin/integrations/endpoint/{endpoint.pk}/change/\n"
    )
    try:
        send_mail(
            f"frontdoor: endpoint {endpoint.pk} disabled (410 Gone)",
            body,
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )
    except Exception:
        logger.exception("could not email operators about disabled endpoint %s", endpoint_id)
