"""Refusals that apply to every request before any view sees it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from config.errors import error_body
from config.nul import NUL_MESSAGE, querydict_nul


class RefuseNulCharacters:
    """A NUL in any query parameter or form field is refused with 400 naming the field.

    PostgreSQL cannot store NUL in text (a 500) and SQLite stores it silently; no field of
    ours has a use for it. One check here covers every page, the admin and the API's query
    strings; JSON bodies are checked by the API's parser (config.parsers).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = querydict_nul(request.GET)
        if (
            name is None
            and request.method == "POST"
            and request.content_type
            in {
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            }
        ):
            name = querydict_nul(request.POST)
        if name is None:
            return self.get_response(request)
        message = f"{name}: {NUL_MESSAGE}"
        # The JSON APIs (ours and the open HSDS one) answer in the API's error shape.
        if request.path.startswith(("/api/", "/hsds/")):
            return JsonResponse(error_body("invalid", message, {name: [NUL_MESSAGE]}), status=400)
        return render(request, "refused.html", {"field": name, "message": NUL_MESSAGE}, status=400)
