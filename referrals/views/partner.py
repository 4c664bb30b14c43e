"""The partner's pages: the inbox (unanswered first) and its live part, and a referral
with its answer form, built from the transition table's rows."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from config.errors import DomainError
from referrals import machine, selectors, services
from referrals.models import OPEN, OPEN_STATUSES, PatientAccess
from referrals.views.shared import live_answer, partner_page, timeline_context

INBOX_SIZE = 100  # the inbox shows every unanswered referral and the most recent others


def _inbox_context(user) -> dict:
    referrals = selectors.referral_list(user=user, filters={}).annotate(
        answered=Case(
            When(OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )
    rows = list(referrals.order_by("answered", "-created_at")[:INBOX_SIZE])
    unanswered = selectors.referral_list(user=user, filters={"status": list(OPEN_STATUSES)}).count()
    return {"referrals": rows, "unanswered": unanswered}


@partner_page
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Referrals into the organisation's services, unanswered first, then newest."""
    version = selectors.referral_list_version(user=request.user)  # first: see timeline_context
    context = {**_inbox_context(request.user), "version": version}
    return render(request, "partner/inbox.html", context)


@partner_page
@require_GET
def inbox_live(request: HttpRequest) -> HttpResponse:
    def answer() -> dict:
        context = _inbox_context(request.user)
        html = render_to_string("partner/_inbox_live.html", context, request=request)
        return {"unanswered": context["unanswered"], "done": False, "html": html}

    return live_answer(request, selectors.referral_list_version(user=request.user), answer)


ANSWERS = {rule.action: rule for rule in machine.answer_actions(machine.ANSWERER)}


def _input_field(wanted: machine.Input) -> forms.Field:
    # The page only carries values: referral_transition judges them with the table's rules.
    if wanted.choices is not None:
        return forms.ChoiceField(label=wanted.label, choices=wanted.choices.choices, required=False)
    return forms.CharField(label=wanted.label, required=False)


class AnswerForm(forms.Form):
    """The partner's answer: an action of the table and the inputs its rows take."""

    action = forms.ChoiceField(choices=[(action, rule.label) for action, rule in ANSWERS.items()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for rule in ANSWERS.values():
            for wanted in rule.inputs:
                self.fields.setdefault(wanted.name, _input_field(wanted))

    def transition_inputs(self) -> dict[str, str]:
        """The inputs the chosen action takes, as referral_transition's keywords."""
        rule = ANSWERS[self.cleaned_data["action"]]
        return {wanted.name: self.cleaned_data.get(wanted.name) or "" for wanted in rule.inputs}


def _partner_referral_page(
    request, referral, form: AnswerForm, status: int = 200, *, audited: bool = False
) -> HttpResponse:
    if not audited:
        services.patient_access_record(
            user=request.user,
            referral=referral,
            channel=PatientAccess.Channel.PAGE,
            request=request,
        )
    context = timeline_context(request.user, referral)
    context.update({"form": form, "answers": ANSWERS})
    response = render(request, "partner/referral.html", context, status=status)
    add_never_cache_headers(response)  # patient details: never kept by a browser or proxy
    return response


@partner_page
def partner_referral(request: HttpRequest, referral_id) -> HttpResponse:
    """GET: the referral with patient details (an audited read). POST: one answer."""
    if request.method != "POST":
        referral = services.referral_read(
            request=request, referral_id=referral_id, channel=PatientAccess.Channel.PAGE
        )
        return _partner_referral_page(request, referral, AnswerForm(prefix="answer"), audited=True)
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)

    form = AnswerForm(request.POST, prefix="answer")
    if not form.is_valid():
        return _partner_referral_page(request, referral, form, status=400)
    action = form.cleaned_data["action"]
    given = form.transition_inputs()
    try:
        services.referral_transition(
            referral_id=referral.id, user=request.user, action=action, **given
        )
    except DomainError as exc:
        if exc.status_code == 403:
            raise PermissionDenied from exc
        refused = machine.refused_inputs(action, exc)
        for wanted in refused:
            form.add_error(
                wanted.name, wanted.page_message(given.get(wanted.name, ""), exc.message)
            )
        if not refused:
            form.add_error(None, exc.message)
        referral.refresh_from_db()
        return _partner_referral_page(request, referral, form, status=exc.status_code)
    messages.success(request, ANSWERS[action].done)
    return redirect("partner-referral", referral_id=referral.id)
