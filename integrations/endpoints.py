"""Endpoints: where an organisation is told. Register, change, remove, test; list what was sent.

Sending is not done here: a test event goes through the outbox (outbox.delivery_create) like
any other delivery, so it exercises the same signing, retries and attempt records.
Who may call these is decided by the caller through directory.permissions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import DomainError
from directory import permissions
from directory.models import Organisation
from integrations import http, outbox
from integrations.models import Delivery, Endpoint

TEST_EVENT_TYPE = "endpoint.test"


# --- reads ------------------------------------------------------------------------------


def endpoint_list(*, user) -> QuerySet[Endpoint]:
    """Endpoints the user may see: their organisation's, or all for operators."""
    return permissions.endpoints_visible_to(user, Endpoint.objects.select_related("organisation"))


def endpoint_get(*, user, endpoint_id: int) -> Endpoint:
    """One endpoint the user may see; 404 for anything else, so others' ids stay unknown."""
    endpoint = endpoint_list(user=user).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise DomainError("No such endpoint.", code="not_found", status_code=404)
    return endpoint


def endpoint_deliveries(*, endpoint: Endpoint, status: str | None = None) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, with their attempts loaded in one more query."""
    deliveries = endpoint.deliveries.prefetch_related("attempts").order_by("-created_at", "-id")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_get(*, user, delivery_id: int) -> Delivery:
    """One delivery to an endpoint the user may see; 404 otherwise."""
    visible = permissions.endpoints_visible_to(user, Endpoint.objects.all())
    delivery = (
        Delivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, endpoint__in=visible)
        .first()
    )
    if delivery is None:
        raise DomainError("No such delivery.", code="not_found", status_code=404)
    return delivery


# --- validation -------------------------------------------------------------------------


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise DomainError(
            "A webhook or FHIR endpoint needs a URL.", code="invalid", fields={"url": ["Required."]}
        )
    try:
        URLValidator(schemes=["http", "https"])(url)
    except DjangoValidationError:
        raise DomainError(
            "The URL is not valid.", code="invalid", fields={"url": ["Enter a valid URL."]}
        ) from None
    problem = http.url_problem(url)
    if problem:
        raise DomainError(
            f"The URL is not usable: {problem}.", code="invalid", fields={"url": [problem]}
        )
    # Refused now, not at send time (where it would be retried for a day): an address
    # that can never be reached in production.
    literal = None if settings.OUTBOUND_ALLOW_PRIVATE else http.literal_address_problem(url)
    if literal:
        raise DomainError(
            f"The URL is not usable: {literal}.", code="invalid", fields={"url": [literal]}
        )
    parts = urlsplit(url)
    # Plain http carries patient-linked events unencrypted: only for local receivers in
    # development and tests, where loopback targets are allowed anyway.
    if parts.scheme != "https" and not settings.OUTBOUND_ALLOW_PRIVATE:
        raise DomainError(
            "The URL must use https.", code="invalid", fields={"url": ["Must start with https://."]}
        )
    return url


def _check_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        raise DomainError(
            "An email endpoint needs an address.", code="invalid", fields={"email": ["Required."]}
        )
    try:
        EmailValidator()(email)
    except DjangoValidationError:
        raise DomainError(
            "The email address is not valid.",
            code="invalid",
            fields={"email": ["Enter a valid email address."]},
        ) from None
    return email


def endpoint_target_clean(*, kind: str, url: str = "", email: str = "") -> tuple[str, str]:
    """The (url, email) pair an endpoint of this kind may hold; DomainError naming the field."""
    if kind not in Endpoint.Kind.values:
        raise DomainError(
            "Unknown endpoint kind.",
            code="invalid",
            fields={"kind": [f"Must be one of {', '.join(Endpoint.Kind.values)}."]},
        )
    if kind == Endpoint.Kind.EMAIL:
        if url:
            raise DomainError(
                "An email endpoint has no URL.",
                code="invalid",
                fields={"url": ["Leave empty for email endpoints."]},
            )
        return "", _check_email(email)
    if email:
        raise DomainError(
            "A webhook or FHIR endpoint has no email address.",
            code="invalid",
            fields={"email": ["Leave empty for webhook and FHIR endpoints."]},
        )
    return _check_url(url), ""


def endpoint_full_message_clean(kind: str, full_message: bool) -> bool:
    # The full message carries the patient; only the FHIR channel knows how to send it
    # (and _check_url already holds every URL to https outside development).
    if full_message and kind != Endpoint.Kind.FHIR:
        raise DomainError(
            "Only a FHIR endpoint can take the full message.",
            code="invalid",
            fields={"full_message": ["Only for FHIR endpoints."]},
        )
    return bool(full_message)


# --- writes -----------------------------------------------------------------------------


def endpoint_create(
    *,
    user,
    kind: str,
    url: str = "",
    email: str = "",
    description: str = "",
    organisation: Organisation | None = None,
    full_message: bool = False,
) -> Endpoint:
    """Register an endpoint for the user's organisation (operators: for any organisation).

    The returned instance carries the signing secret; callers show it once and never again.
    """
    if not permissions.can_manage_endpoints(user):
        raise DomainError("Your role may not manage endpoints.", code="forbidden", status_code=403)
    if organisation is None:
        organisation = user.organisation
    if organisation is None:
        raise DomainError(
            "Say which organisation the endpoint is for.",
            code="invalid",
            fields={"organisation": ["Required."]},
        )
    if organisation.pk != user.organisation_id and not permissions.is_operator(user):
        raise DomainError(
            "You may only register endpoints for your own organisation.",
            code="forbidden",
            fields={"organisation": ["Must be your own organisation."]},
            status_code=403,
        )
    url, email = endpoint_target_clean(kind=kind, url=url, email=email)
    full_message = endpoint_full_message_clean(kind, full_message)
    return Endpoint.objects.create(
        organisation=organisation,
        kind=kind,
        url=url,
        email=email,
        description=description,
        full_message=full_message,
    )


_UNSET: Any = object()


def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str = _UNSET,
    email: str = _UNSET,
    description: str = _UNSET,
    active: bool = _UNSET,
    full_message: bool = _UNSET,
) -> Endpoint:
    """Change where an endpoint points, its description, or switch it on or off.

    Switching it back on clears the reason it was disabled (a 410 from the receiver, say).
    """
    with transaction.atomic():
        # Lock: the sender may be disabling this endpoint (410) at the same moment.
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        new_url = endpoint.url if url is _UNSET else url
        new_email = endpoint.email if email is _UNSET else email
        if url is not _UNSET or email is not _UNSET:
            endpoint.url, endpoint.email = endpoint_target_clean(
                kind=endpoint.kind, url=new_url, email=new_email
            )
        if description is not _UNSET:
            endpoint.description = description
        if full_message is not _UNSET:
            endpoint.full_message = endpoint_full_message_clean(endpoint.kind, full_message)
        if active is not _UNSET:
            if active and not endpoint.active:
                endpoint.disabled_reason = ""
            elif not active and endpoint.active:
                endpoint.disabled_reason = "Switched off by hand."
            endpoint.active = active
        endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Remove an endpoint and its delivery history; nothing more is sent to it."""
    endpoint.delete()


def endpoint_test(*, endpoint: Endpoint) -> Delivery:
    """Queue a test event to the endpoint through the outbox; it carries no referral at all."""
    # A switched-off endpoint is refused by delivery_create (409 endpoint_disabled).
    payload = {
        "type": TEST_EVENT_TYPE,
        "timestamp": timezone.now().isoformat(),
        "data": {"endpoint_id": endpoint.pk, "organisation_id": endpoint.organisation_id},
    }
    with transaction.atomic():
        return outbox.delivery_create(
            endpoint=endpoint, event_type=TEST_EVENT_TYPE, payload=payload
        )
