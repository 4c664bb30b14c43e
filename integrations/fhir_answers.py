"""A receiver's answer to the full BaRS-style FHIR message, and what we send back.

A receiver answers with a servicerequest-response message, parsed here into one action of
the referral state machine (acknowledge, accept, decline with a reason code, complete);
integrations.fhir_api hands it to referrals.services.referral_transition and answers with
response_bundle, or with an OperationOutcome when the message is refused.

Every resource is a fhir.resources (R4B) model, so an answer that would not validate is
refused here with the field it got wrong.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from integrations.fhir import BARS_EVENTS, FHIR_STATUS
from integrations.fhir_bars import our_system, stable_urn, uuid_of


class FhirInputError(Exception):
    """A message we cannot act on: becomes an OperationOutcome with this status."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Answer:
    referral_id: str
    action: str
    reason_code: str = ""
    note: str = ""
    request_header_id: str | None = None


# MessageHeader.reason code -> (state-machine action, the ServiceRequest.status that fits it).
RESPONSE_ACTIONS = {
    "acknowledged": ("acknowledge", {"active"}),
    "accepted": ("accept", {"active"}),
    "declined": ("decline", {"revoked"}),
    "rejected": ("decline", {"revoked"}),
    "completed": ("complete", {"completed"}),
}


def answer_from_message(data: Any) -> Answer:
    """Read a servicerequest-response message into one state-machine action.

    The MessageHeader's reason code says what the receiver did (acknowledged, accepted,
    declined or rejected, completed); its focus is the ServiceRequest we sent (its id is
    the referral's). A decline names its reason in a ServiceRequest extension ending
    /decline-reason (valueCode, one of our decline codes); the ServiceRequest's first note
    becomes the event's note (or the outcome, on completion).
    """
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirInputError("Send a FHIR Bundle of type message.")
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "Bundle"
        raise FhirInputError(
            f"Not a valid FHIR R4 Bundle at {where}: {first.get('msg', '')}"
        ) from None
    if bundle.type != "message" or not bundle.entry:
        raise FhirInputError("The Bundle must be of type message, MessageHeader first.")
    header = bundle.entry[0].resource
    if header is None or header.get_resource_type() != "MessageHeader":
        raise FhirInputError("The first entry must be a MessageHeader.")
    event = getattr(header, "eventCoding", None)
    if event is None or event.code != "servicerequest-response":
        raise FhirInputError("MessageHeader.eventCoding must be servicerequest-response.")
    reasons = [c.code for c in (header.reason.coding or [])] if header.reason else []
    known = [code for code in reasons if code in RESPONSE_ACTIONS]
    if not known:
        raise FhirInputError(
            "MessageHeader.reason must say acknowledged, accepted, declined or completed."
        )
    action, statuses = RESPONSE_ACTIONS[known[0]]

    if not header.focus:
        raise FhirInputError("MessageHeader.focus must point at the ServiceRequest.")
    target = header.focus[0].reference
    request = next(
        (
            entry.resource
            for entry in bundle.entry
            if entry.resource is not None
            and entry.resource.get_resource_type() == "ServiceRequest"
            and (entry.fullUrl == target or f"ServiceRequest/{entry.resource.id}" == target)
        ),
        None,
    )
    if request is None:
        raise FhirInputError("MessageHeader.focus does not resolve to a ServiceRequest entry.")
    if request.status not in statuses:
        raise FhirInputError(
            f"ServiceRequest.status {request.status!r} does not fit the reason {known[0]!r}."
        )
    referral_id = request.id
    if not referral_id:
        referral_id = next(
            (i.value for i in request.identifier or [] if (i.system or "").endswith("/referrals")),
            None,
        )
    try:
        referral_id = str(uuid.UUID(str(referral_id)))
    except ValueError:
        raise FhirInputError("The ServiceRequest's id is not one of our referrals.") from None

    reason_code = ""
    for extension in request.extension or []:
        if (extension.url or "").endswith("/decline-reason"):
            reason_code = extension.valueCode or ""
    note = next((n.text for n in request.note or [] if n.text), "")
    return Answer(
        referral_id=referral_id,
        action=action,
        reason_code=reason_code,
        note=note,
        request_header_id=header.id,
    )


def response_bundle(*, answer: Answer, referral) -> dict[str, Any]:
    """Our acknowledgement of a processed message: MessageHeader.response ok + the request."""
    header_urn = stable_urn(f"response/{answer.request_header_id}/{referral.pk}/{referral.status}")
    request_urn = "urn:uuid:" + str(referral.pk)
    header = MessageHeader(
        id=uuid_of(header_urn),
        eventCoding=Coding(system=BARS_EVENTS, code="servicerequest-response"),
        source={"name": "frontdoor", "endpoint": settings.SITE_URL},
        response={"identifier": answer.request_header_id or uuid_of(header_urn), "code": "ok"},
        focus=[Reference(reference=request_urn)],
    )
    request = ServiceRequest(
        id=str(referral.pk),
        extension=[
            {"url": our_system("StructureDefinition/referral-status"), "valueCode": referral.status}
        ],
        status=FHIR_STATUS.get(referral.status, "unknown"),
        intent="order",
        subject=Reference(display="See the referral"),
    )
    bundle = Bundle(
        id=uuid_of(stable_urn(f"{header_urn}/Bundle")),
        type="message",
        entry=[
            BundleEntry(fullUrl=header_urn, resource=header),
            BundleEntry(fullUrl=request_urn, resource=request),
        ],
    )
    return bundle.model_dump(mode="json", exclude_none=True)


ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict"}


def operation_outcome(*, status: int, message: str, code: str | None = None) -> dict[str, Any]:
    outcome = OperationOutcome(
        issue=[
            {
                "severity": "error",
                "code": code or ISSUE_CODES.get(status, "processing"),
                "diagnostics": message,
            }
        ]
    )
    return outcome.model_dump(mode="json", exclude_none=True)
