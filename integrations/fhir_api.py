"""FHIR R4 API: receivers answer referrals with $process-message; HealthcareService reads.

Both answer FHIR: a Bundle or a resource on success, an OperationOutcome with a 4xx on
anything a caller can get wrong (malformed message, not signed in, another organisation's
referral, a transition the referral's status does not allow). The answer itself goes
through the one state machine, referrals.services.referral_transition, exactly as the
partner API and the inbox page do.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from directory.models import Service
from integrations.fhir_answers import (
    FhirInputError,
    answer_from_message,
    operation_outcome,
    response_bundle,
)
from integrations.fhir_bars import healthcare_service
from referrals.services import referral_transition


class FhirJsonParser(JSONParser):
    media_type = "application/fhir+json"


class FhirJsonRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


def fhir_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every refusal as an OperationOutcome, with the status the API would have used."""
    if isinstance(exc, FhirInputError):
        return Response(
            operation_outcome(status=exc.status, message=exc.message, code=exc.code),
            status=exc.status,
        )
    if isinstance(exc, DomainError):
        code = "conflict" if exc.code == "illegal_transition" else None
        return Response(
            operation_outcome(status=exc.status_code, message=exc.message, code=code),
            status=exc.status_code,
        )
    if isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            status_code = status.HTTP_401_UNAUTHORIZED
        message = str(exc.detail) if not isinstance(exc.detail, dict | list) else "Invalid input."
        return Response(operation_outcome(status=status_code, message=message), status=status_code)
    return None


class FhirApi(APIView):
    parser_classes = [FhirJsonParser, JSONParser]
    renderer_classes = [FhirJsonRenderer, JSONRenderer]

    def get_exception_handler(self):
        return fhir_exception_handler


@extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
class ProcessMessageApi(FhirApi):
    """POST a servicerequest-response message Bundle: acknowledge, accept, decline, complete."""

    def post(self, request):
        answer = answer_from_message(request.data)
        referral = referral_transition(
            referral_id=answer.referral_id,
            user=request.user,
            action=answer.action,
            reason_code=answer.reason_code,
            note=answer.note,
            outcome=answer.note if answer.action == "complete" else "",
        )
        return Response(response_bundle(answer=answer, referral=referral))


@extend_schema(responses=OpenApiTypes.OBJECT)
class HealthcareServiceApi(FhirApi):
    """GET one directory entry as a FHIR HealthcareService, by its UUID (or numeric id)."""

    def get(self, request, service_id: str):
        lookup = {"pk": int(service_id)} if service_id.isdigit() else None
        if lookup is None:
            try:
                lookup = {"uuid": uuid.UUID(service_id)}
            except ValueError:
                lookup = None
        service = (
            Service.objects.select_related("organisation", "location")
            .prefetch_related("categories", "opening_spans", "opening_exceptions")
            .filter(**lookup)
            .first()
            if lookup
            else None
        )
        if service is None:
            raise FhirInputError("No such HealthcareService.", status=404, code="not-found")
        return Response(healthcare_service(service).model_dump(mode="json", exclude_none=True))
