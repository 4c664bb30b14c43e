"""BaRS-style FHIR R4 message for a referral event: a thin notification, no patient details.

The Bundle (type "message") holds a MessageHeader and a ServiceRequest. The ServiceRequest
says which referral (its id and API link), its status, category, priority, the performing
organisation (the service's) and the requesting one (the crew's). The patient is only a
pointer to the referral API: the partner reads the details there with its token, and
every such read is audited. Built and validated with fhir.resources (R4B, whose
MessageHeader, ServiceRequest and Bundle match R4).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from fhir.resources.R4B.bundle import Bundle

BARS_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"

# Our status -> ServiceRequest.status (request-status value set).
FHIR_STATUS = {
    "sent": "active",
    "acknowledged": "active",
    "accepted": "active",
    "completed": "completed",
    "declined": "revoked",
    "cancelled": "revoked",
    "expired": "revoked",
}
# Our urgency -> ServiceRequest.priority (request-priority value set).
FHIR_PRIORITY = {"within_1h": "asap", "within_4h": "urgent", "within_24h": "routine"}


def _organisation_reference(organisation) -> dict[str, Any]:
    return {
        "type": "Organization",
        "identifier": {"system": ODS_SYSTEM, "value": organisation.ods_code},
        "display": organisation.name,
    }


def _urn(seed: str) -> str:
    # Stable per message and resource, so a retry sends byte-identical content.
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def referral_api_url(referral_id) -> str:
    return f"{settings.SITE_URL}/api/v1/referrals/{referral_id}/"


def message_bundle(
    *, message_id: str, event_type: str, at: datetime, destination: str, event=None
) -> dict[str, Any]:
    """The Bundle as a JSON-ready dict; validated by fhir.resources before it is returned."""
    header_urn = _urn(f"{message_id}/MessageHeader")
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": str(uuid.UUID(header_urn.removeprefix("urn:uuid:"))),
        "eventCoding": {
            "system": BARS_EVENTS,
            "code": "servicerequest-request"
            if event_type in {"referral.created", "referral.cancelled"}
            else "servicerequest-response",
            "display": event_type,
        },
        "destination": [{"endpoint": destination}],
        "source": {"name": "frontdoor", "endpoint": settings.SITE_URL},
        "reason": {"coding": [{"system": f"{settings.SITE_URL}/fhir/event", "code": event_type}]},
    }
    entries = [{"fullUrl": header_urn, "resource": header}]

    if event is not None:
        referral = event.referral
        service = referral.service
        request_urn = _urn(f"{message_id}/ServiceRequest")
        api_url = referral_api_url(referral.id)
        header["sender"] = _organisation_reference(
            event.actor_organisation or referral.referring_organisation
        )
        header["focus"] = [{"reference": request_urn}]
        entries.append(
            {
                "fullUrl": request_urn,
                "resource": {
                    "resourceType": "ServiceRequest",
                    "id": str(referral.id),
                    "identifier": [
                        {"system": f"{settings.SITE_URL}/referrals", "value": str(referral.id)},
                        {"system": f"{settings.SITE_URL}/api", "value": api_url},
                    ],
                    "extension": [
                        {
                            "url": f"{settings.SITE_URL}/fhir/StructureDefinition/referral-status",
                            "valueCode": event.to_status,
                        }
                    ],
                    "status": FHIR_STATUS.get(event.to_status, "unknown"),
                    "intent": "order",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": f"{settings.SITE_URL}/fhir/category",
                                    "code": referral.category.code,
                                    "display": referral.category.name,
                                }
                            ]
                        }
                    ],
                    "priority": FHIR_PRIORITY.get(referral.urgency, "urgent"),
                    # Only a pointer: the patient's details stay behind the audited API.
                    "subject": {"type": "Patient", "display": f"See {api_url}"},
                    "authoredOn": referral.created_at.isoformat(),
                    "requester": _organisation_reference(referral.referring_organisation),
                    "performer": [_organisation_reference(service.organisation)],
                    "locationReference": [{"display": service.name}],
                },
            }
        )

    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.UUID(_urn(f"{message_id}/Bundle").removeprefix("urn:uuid:"))),
        "type": "message",
        "timestamp": at.isoformat(),
        "entry": entries,
    }
    # Round-trip through the model so an invalid resource fails here, not at the partner.
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
