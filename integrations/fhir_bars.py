"""The full BaRS-style FHIR R4 referral message, out to a partner.

For an endpoint with `full_message` on, each referral event is sent as a message Bundle
carrying the patient: MessageHeader (event servicerequest-request, reason new, update or
cancelled), ServiceRequest, Patient, Encounter, the referring and receiving Organizations,
the HealthcareService and, for a safeguarding concern, a Flag. It is built at send time
from the referral as it is then (so a purged referral sends no identifiers and nothing with
patient details is kept in the outbox), and every send is recorded as a patient-detail
disclosure (referrals.services.patient_access_record). The answers coming back are read by
integrations/fhir_answers.py.

Every resource is a fhir.resources (R4B, which matches R4 for these) model, so a Bundle
that would not validate fails here, never at the partner.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest

from integrations.fhir import BARS_EVENTS, FHIR_PRIORITY, FHIR_STATUS, ODS_SYSTEM

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
BARS_REASON = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FHIR_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def our_system(name: str) -> str:
    """A code system or definition of ours, named under the site's own address."""
    return f"{settings.SITE_URL}/fhir/{name}"


def stable_urn(seed: str) -> str:
    # Stable per delivery and resource: a retry sends the same resource ids.
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def uuid_of(urn: str) -> str:
    return urn.removeprefix("urn:uuid:")


def _organization(organisation, urn: str) -> Organization:
    return Organization(
        id=uuid_of(urn),
        identifier=[Identifier(system=ODS_SYSTEM, value=organisation.ods_code)],
        name=organisation.name,
        active=True,
    )


def _category(category) -> CodeableConcept:
    return CodeableConcept(
        coding=[Coding(system=our_system("category"), code=category.code, display=category.name)]
    )


def healthcare_service(service, *, organisation_reference: Reference | None = None):
    """A directory entry as a FHIR HealthcareService (also GET /api/v1/fhir/HealthcareService).

    Public facts only: the public phone, hours, eligibility; never live capacity.
    """
    available = []
    for span in service.opening_spans.all():
        whole_day = span.opens == span.closes
        entry: dict[str, Any] = {"daysOfWeek": [DAYS[span.weekday]]}
        if whole_day:
            entry["allDay"] = True
        else:
            # FHIR times cannot run past midnight; an overnight span is noted as such.
            entry["availableStartTime"] = span.opens.strftime("%H:%M:%S")
            entry["availableEndTime"] = span.closes.strftime("%H:%M:%S")
        available.append(entry)
    not_available = [
        {
            "description": exception.note
            or ("Closed" if exception.closed else "Different hours that day"),
            "during": {"start": exception.date.isoformat(), "end": exception.date.isoformat()},
        }
        for exception in service.opening_exceptions.all()
    ]
    eligibility = []
    criteria = [
        f"Ages {service.min_age if service.min_age is not None else 0}"
        f"-{service.max_age if service.max_age is not None else 'any'}",
    ]
    if service.sexes:
        criteria.append("Sex: " + ", ".join(service.sexes))
    if service.inclusion_criteria:
        criteria.append("For: " + service.inclusion_criteria)
    if service.exclusion_criteria:
        criteria.append("Not for: " + service.exclusion_criteria)
    eligibility.append({"code": {"text": "eligibility"}, "comment": ". ".join(criteria)})
    return HealthcareService(
        id=str(service.uuid),
        identifier=[
            Identifier(system=our_system("service"), value=str(service.uuid)),
            Identifier(system=our_system("service-id"), value=str(service.pk)),
        ],
        active=service.active,
        providedBy=organisation_reference
        or Reference(
            type="Organization",
            identifier=Identifier(system=ODS_SYSTEM, value=service.organisation.ods_code),
            display=service.organisation.name,
        ),
        category=[_category(c) for c in service.categories.all()],
        name=service.public_name or service.name,
        comment=service.description or None,
        extraDetails=service.referral_instructions or None,
        telecom=[{"system": "phone", "value": service.phone, "use": "work"}]
        if service.phone
        else None,
        location=[
            Reference(
                display=f"{service.location.address}, {service.location.postcode}",
            )
        ],
        eligibility=eligibility,
        availableTime=available or None,
        notAvailable=not_available or None,
        referralMethod=[CodeableConcept(text="elec")],
        appointmentRequired=False,
    )


# --- outbound: the full message --------------------------------------------------------------


def message_reason(to_status: str) -> str:
    """BaRS MessageHeader.reason: new for a new referral, cancelled, else update."""
    if to_status == "sent":
        return "new"
    if to_status == "cancelled":
        return "cancelled"
    return "update"


def full_message_bundle(*, message_id: str, event, destination: str, at) -> dict[str, Any]:
    """The full BaRS-style message Bundle for a referral event, as JSON-ready data."""
    referral = event.referral
    service = referral.service
    urn = {
        name: stable_urn(f"{message_id}/{name}")
        for name in (
            "MessageHeader",
            "Patient",
            "Encounter",
            "Referrer",
            "Receiver",
            "HealthcareService",
            "Flag",
            "Bundle",
        )
    }
    request_urn = "urn:uuid:" + str(referral.pk)
    reason = message_reason(event.to_status)

    referrer = _organization(referral.referring_organisation, urn["Referrer"])
    receiver = _organization(service.organisation, urn["Receiver"])
    header = MessageHeader(
        id=uuid_of(urn["MessageHeader"]),
        eventCoding=Coding(system=BARS_EVENTS, code="servicerequest-request"),
        reason=CodeableConcept(coding=[Coding(system=BARS_REASON, code=reason)]),
        destination=[{"endpoint": destination, "receiver": Reference(reference=urn["Receiver"])}],
        sender=Reference(reference=urn["Referrer"]),
        source={"name": "frontdoor", "endpoint": settings.SITE_URL},
        focus=[Reference(reference=request_urn)],
    )

    patient_fields: dict[str, Any] = {"id": uuid_of(urn["Patient"])}
    if referral.nhs_number:
        patient_fields["identifier"] = [
            Identifier(system=NHS_NUMBER_SYSTEM, value=referral.nhs_number)
        ]
    if referral.family_name or referral.given_name:
        patient_fields["name"] = [
            {
                "use": "official",
                "family": referral.family_name or None,
                "given": [referral.given_name] if referral.given_name else None,
            }
        ]
    if referral.date_of_birth:
        patient_fields["birthDate"] = referral.date_of_birth
    if referral.sex:
        patient_fields["gender"] = FHIR_GENDER.get(referral.sex, "unknown")
    if referral.address or referral.postcode:
        patient_fields["address"] = [
            {
                "use": "home",
                "text": referral.address or None,
                "postalCode": referral.postcode or None,
            }
        ]
    if referral.phone:
        patient_fields["telecom"] = [{"system": "phone", "value": referral.phone}]
    patient = Patient(**patient_fields)

    encounter = Encounter(
        id=uuid_of(urn["Encounter"]),
        status="in-progress",
        # FLD: the crew sees the patient where they are, not at a care site.
        class_fhir=Coding(
            system="http://terminology.hl7.org/CodeSystem/v3-ActCode", code="FLD", display="field"
        ),
        identifier=[Identifier(system=our_system("incident"), value=referral.incident_reference)],
        subject=Reference(reference=urn["Patient"]),
        serviceProvider=Reference(reference=urn["Referrer"]),
    )

    flags = []
    if referral.safeguarding_concern:
        flags.append(
            Flag(
                id=uuid_of(urn["Flag"]),
                status="active",
                category=[
                    CodeableConcept(
                        coding=[
                            Coding(system=our_system("flag-category"), code="safeguarding"),
                        ],
                        text="Safeguarding",
                    )
                ],
                code=CodeableConcept(
                    text=referral.safeguarding_details or "Safeguarding concern raised by the crew"
                ),
                subject=Reference(reference=urn["Patient"]),
                encounter=Reference(reference=urn["Encounter"]),
            )
        )

    status = "revoked" if reason == "cancelled" else FHIR_STATUS.get(event.to_status, "unknown")
    request_fields: dict[str, Any] = {
        "id": str(referral.pk),
        "identifier": [Identifier(system=our_system("referrals"), value=str(referral.pk))],
        "extension": [
            {"url": our_system("StructureDefinition/referral-status"), "valueCode": event.to_status}
        ],
        "status": status,
        "intent": "order",
        "category": [_category(referral.category)],
        "priority": FHIR_PRIORITY.get(referral.urgency, "urgent"),
        "subject": Reference(reference=urn["Patient"]),
        "encounter": Reference(reference=urn["Encounter"]),
        "occurrencePeriod": {
            "start": referral.created_at.isoformat(),
            "end": referral.answer_due_at.isoformat(),
        },
        "authoredOn": referral.created_at.isoformat(),
        "requester": Reference(reference=urn["Referrer"]),
        "performer": [
            Reference(reference=urn["Receiver"]),
            Reference(reference=urn["HealthcareService"]),
        ],
    }
    if referral.presenting_complaint:
        request_fields["reasonCode"] = [CodeableConcept(text=referral.presenting_complaint)]
    notes = [text for text in (referral.summary, referral.cancel_reason) if text]
    if notes:
        request_fields["note"] = [{"text": text} for text in notes]
    if flags:
        request_fields["supportingInfo"] = [Reference(reference=urn["Flag"])]
    service_request = ServiceRequest(**request_fields)

    resources = [
        (urn["MessageHeader"], header),
        (request_urn, service_request),
        (urn["Patient"], patient),
        (urn["Encounter"], encounter),
        (urn["Referrer"], referrer),
        (urn["Receiver"], receiver),
        (
            urn["HealthcareService"],
            healthcare_service(
                service, organisation_reference=Reference(reference=urn["Receiver"])
            ),
        ),
        *[(urn["Flag"], flag) for flag in flags],
    ]
    bundle = Bundle(
        id=uuid_of(urn["Bundle"]),
        type="message",
        timestamp=at.isoformat(),
        entry=[
            BundleEntry(fullUrl=full_url, resource=resource) for full_url, resource in resources
        ],
    )
    return bundle.model_dump(mode="json", exclude_none=True)
