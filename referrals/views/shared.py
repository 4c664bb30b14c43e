"""What the crew's and the partner's referral pages share: who may open them, the
referral's timeline, and the answer to a live part's poll."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse

from directory import permissions
from referrals import selectors, services


def _page_for(predicate: Callable) -> Callable:
    """Login required, then the role predicate from directory.permissions, else 403."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


crew_page = _page_for(permissions.can_use_crew_pages)
partner_page = _page_for(permissions.can_use_partner_pages)


def timeline_context(user, referral) -> dict:
    # The version first: a change made while the page is built is then shown again at the
    # next poll rather than missed.
    version = selectors.referral_version(referral=referral)
    return {
        "referral": referral,
        "version": version,
        "events": list(selectors.referral_events(referral=referral)),
        "actions": services.referral_actions_for(user=user, referral=referral),
    }


def live_answer(request: HttpRequest, version: str, answer: Callable[[], dict]) -> HttpResponse:
    """A live part's poll: 204 when the page already shows this version (nothing rendered),
    else answer() as JSON with the new version."""
    if request.GET.get("v") == version:
        response: HttpResponse = HttpResponse(status=204)
    else:
        response = JsonResponse({**answer(), "version": version})
    response["Cache-Control"] = "no-store"
    return response
