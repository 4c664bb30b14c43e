"""The crew's referrals once sent: the status page and its live part, cancel, and
today's list."""

from __future__ import annotations

from datetime import datetime
from datetime import time as clock

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from config.errors import DomainError
from referrals import machine, selectors, services
from referrals.models import PatientAccess
from referrals.views.shared import crew_page, live_answer, timeline_context


@crew_page
@require_GET
def referral_status(request: HttpRequest, referral_id) -> HttpResponse:
    referral = services.referral_read(
        request=request, referral_id=referral_id, channel=PatientAccess.Channel.PAGE
    )
    context = timeline_context(request.user, referral)
    context["cancel_error"] = request.session.pop("cancel_error", None)
    context["cancel"] = machine.TRANSITIONS["cancel"]
    response = render(request, "crew/referral_status.html", context)
    add_never_cache_headers(response)  # patient details: never kept by a browser or proxy
    return response


@crew_page
@require_GET
def referral_status_live(request: HttpRequest, referral_id) -> HttpResponse:
    """The status page's moving part for polling: no patient details in it. `actions` are
    those the state machine allows this user now; the page drops the others' controls."""
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)

    def answer() -> dict:
        context = timeline_context(request.user, referral)
        return {
            "status": referral.status,
            "done": referral.is_closed,
            "actions": context["actions"],
            "html": render_to_string("crew/_status_live.html", context, request=request),
        }

    return live_answer(request, selectors.referral_version(referral=referral), answer)


@crew_page
@require_POST
def referral_cancel(request: HttpRequest, referral_id) -> HttpResponse:
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)
    reason = request.POST.get("reason", "")
    try:
        services.referral_transition(
            referral_id=referral.id, user=request.user, action="cancel", note=reason
        )
    except DomainError as exc:
        if exc.status_code == 403:
            raise PermissionDenied from exc
        refused = machine.refused_inputs("cancel", exc)
        message = refused[0].page_message(reason, exc.message) if refused else exc.message
        # Shown once on the status page after the redirect (no patient detail in it).
        request.session["cancel_error"] = message
        return redirect("referral-status", referral_id=referral.id)
    messages.success(request, machine.TRANSITIONS["cancel"].done)
    return redirect("referral-status", referral_id=referral.id)


def _start_of_today() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), clock.min))


@crew_page
@require_GET
def my_referrals(request: HttpRequest) -> HttpResponse:
    """Today's referrals of the crew's organisation, newest first."""
    referrals = selectors.referral_list(
        user=request.user, filters={"since": _start_of_today().isoformat()}
    )
    return render(request, "crew/my_referrals.html", {"referrals": list(referrals[:200])})
