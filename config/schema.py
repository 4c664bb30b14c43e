"""OpenAPI names for our one-view-per-operation style.

Every view nests its own InputSerializer/OutputSerializer, so the plain class name is not
unique: name components after the view that holds them, and operations after the view.
"""

import re

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, inner = qualname.rsplit(".", 1)
            outer = re.sub(r"Api$", "", outer.replace(".", "")).lstrip("_")
            return outer + re.sub(r"Serializer$", "", inner)
        return super().get_serializer_name(serializer, direction)

    def get_operation_id(self) -> str:
        view = re.sub(r"Api$", "", type(self.view).__name__).lstrip("_")
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", view).lower()
        return f"{snake}_{self.method.lower()}"


class FrontdoorTokenScheme(KnoxTokenScheme):
    """Our one-query knox authenticator: the same header and token as knox's own scheme."""

    target_class = "directory.permissions.TokenAuthentication"
    name = "deviceToken"


# The API's one error shape, as config/errors.py writes it.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                # Messages per field; a nested object's fields nest (patient.nhs_number).
                "fields": {
                    "type": "object",
                    "additionalProperties": {
                        "anyOf": [
                            {"type": "array", "items": {"type": "string"}},
                            {"type": "object"},
                        ]
                    },
                },
            },
        }
    },
}
FHIR_ERROR_SCHEMA = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}},
}


FHIR_MEDIA_TYPES = ("application/fhir+json", "application/json")
# Reports answer ?format=csv and ?format=xlsx as files (reports/api.py).
REPORT_FILES = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}


def document_errors(result, generator, request, public):
    """Every operation's 4xx answers, documented: the error shape (FHIR routes: an
    OperationOutcome), so clients and the schema fuzz (tests/test_api_fuzz.py) know them;
    and the reports' CSV and XLSX files beside their JSON."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    components["OperationOutcome"] = FHIR_ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        if path.startswith("/api/v1/fhir/"):
            # FHIR answers an OperationOutcome (as FHIR or plain JSON, as asked); a path no
            # FHIR view matches, the error shape.
            either = {
                "anyOf": [
                    {"$ref": "#/components/schemas/OperationOutcome"},
                    {"$ref": "#/components/schemas/Error"},
                ]
            }
            error = {media: {"schema": either} for media in FHIR_MEDIA_TYPES}
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answer = operation["responses"].get("200")
            if path.startswith("/api/v1/reports/") and answer and "content" in answer:
                answer["content"].update(REPORT_FILES)
            operation["responses"].setdefault(
                "4XX",
                {
                    "description": "Refused: the reason, naming any field at fault.",
                    "content": error,
                },
            )
    return result
