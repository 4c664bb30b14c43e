"""One error format for the whole API: {"error": {"code", "message", "fields"}}.

Services raise DomainError (or its subclasses); DRF's own exceptions (validation,
authentication, permission, not found, throttling) are reshaped here too, so a client
sees one shape whatever went wrong.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A refusal a user can cause. Carries the API code, a message and the HTTP status."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        # A field's messages are always a list, as DRF's validation gives them.
        self.fields = {
            name: [messages] if isinstance(messages, str) else messages
            for name, messages in (fields or {}).items()
        }
        self.extra = extra or {}


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


def _flatten(detail: Any) -> Any:
    """Turn DRF's nested ErrorDetail structures into plain strings and lists."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = [_flatten(item) for item in detail]
        return flat
    return str(detail)


def _first_message(fields: dict[str, Any]) -> str:
    for name, value in fields.items():
        while isinstance(value, dict):
            name, value = next(iter(value.items()), (name, ""))
        if isinstance(value, list) and value:
            value = value[0]
            while isinstance(value, dict):
                name, value = next(iter(value.items()), (name, ""))
                if isinstance(value, list) and value:
                    value = value[0]
        return f"{name}: {value}"
    return "Invalid input."


def error_body(code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any) -> dict:
    body = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return {"error": body}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status_code
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it be a 500 and be logged

    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        fields = {"non_field_errors": detail} if isinstance(detail, list) else detail
        response.data = error_body("invalid", _first_message(fields), fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response

    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = "not_authenticated"
    message = str(getattr(exc, "detail", "")) or "Error."
    response.data = error_body(code, message)
    return response


# --- requests that never reach a view --------------------------------------------------


def _is_api(request: HttpRequest) -> bool:
    # HSDS (/hsds/) is an API too: its clients read JSON, even for an id that is no UUID.
    return request.path.startswith(("/api/", "/hsds/"))


def _json_error(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: the API's error shape under /api/ (a body over the size limit is 413)."""
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return _json_error("too_large", "The request body is too large.", 413)
        return HttpResponse("The request body is too large.", status=413, content_type="text/plain")
    if _is_api(request):
        return _json_error("bad_request", "Bad request.", 400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the API's error shape for unmatched /api/ paths, the NHS page elsewhere."""
    if _is_api(request):
        return _json_error("not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API's error shape under /api/ (the error itself is logged by Django)."""
    if _is_api(request):
        return _json_error("server_error", "Something went wrong on our side.", 500)
    return defaults.server_error(request)


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """django-axes' answer to a locked-out login: 429, in the API's shape or as a page."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"Too many failed sign-ins for this account from this address. Try again in "
        f"{minutes} minutes, or ask an operator to unlock it."
    )
    if _is_api(request):
        response = _json_error("locked_out", message, 429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
