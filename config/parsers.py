"""The API's request parser (DRF's JSON one, made safe against hostile bodies)."""

from django.conf import settings
from rest_framework import exceptions, parsers, status

from config.nul import NUL_MESSAGE, nul_field


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 4xx what would otherwise be a 500.

    A body nested too deep for the decoder raises RecursionError, and DRF reads the body
    from the stream without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check: both are refused
    here, before anything is decoded into memory.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise BodyTooLarge()
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        # PostgreSQL cannot store NUL in text; no field has a use for it (see the middleware).
        name = nul_field(data)
        if name:
            raise exceptions.ValidationError({name: [NUL_MESSAGE]})
        return data


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"
