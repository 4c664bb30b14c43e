"""Referral pages: the crew's refer form, status page and list; the partner's inbox and answers.

Every action goes through referrals.services (the same functions as the API) and every
read through referrals.selectors; access is decided by directory.permissions. Pages that
show a patient's details record the read (patient_access_record, channel "page").
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST
from rest_framework import serializers as drf_serializers

from config.errors import Conflict, DomainError
from directory import permissions
from directory.hours import service_opening_state
from directory.models import Borough, Service, Sex
from directory.search import search_query_from_params
from directory.selectors import Reason, service_referral_problem
from directory.timing import MAX_WITHIN_MINUTES
from referrals import machine, selectors, services
from referrals.api import ObservationsSerializer, ReferralCreateApi
from referrals.idempotency import idempotent_response
from referrals.models import (
    OPEN,
    OPEN_STATUSES,
    IdempotencyKey,
    Mobility,
    PatientAccess,
    Urgency,
)

INBOX_SIZE = 100  # the inbox shows every unanswered referral and the most recent others


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


def _messages_of(value: Any) -> list[str]:
    """A DomainError's or serializer's field value (str, list or nested dict) as strings."""
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages_of(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages_of(v)]
    return [str(value)]


# --- whether a crew can refer, and why not ----------------------------------------------

# Another role's referrers only (the service's referral_roles leave crews out).
NOT_FOR_CREWS = "not_for_crews"
# What a crew reads for each reason a referral cannot be made (directory.selectors.Reason).
REFUSALS = {
    Reason.INACTIVE: "Not taking referrals at the moment",
    Reason.NOT_ELIGIBLE_AGE: "The patient's age is outside the ages it sees",
    Reason.NOT_ELIGIBLE_SEX: "It does not see patients of this sex",
    Reason.OUTSIDE_AREA: "It does not cover the patient's area",
    Reason.FULL: "No slots left",
    Reason.NOT_TAKING: "Not taking referrals now (capacity Red)",
    Reason.CLOSED: "Closed now",
    Reason.CLOSING_SOON: "Closes too soon to refer",
    NOT_FOR_CREWS: "It takes referrals from other professionals only",
}


def refusal_text(reason: str) -> str:
    return REFUSALS.get(reason, reason.replace("_", " ").capitalize())


def refer_problem(
    *,
    user,
    service: Service,
    age: int | None,
    sex: str | None,
    borough: Borough | None,
    at: datetime,
    within: timedelta = timedelta(0),
) -> str | None:
    """Why this crew cannot refer this patient to this service now, or within `within` (the
    urgency window: a service opening in 20 minutes takes a within_4h referral), or None.

    The rule is referral_create's own (directory.selectors.service_referral_problem), so
    a page offers Refer exactly where sending would succeed. Without a known borough the
    service's own is used, as referral_create does for a patient without a postcode.
    """
    if not permissions.can_refer(user, service):
        return NOT_FOR_CREWS
    return service_referral_problem(
        service=service,
        age=age,
        sex=sex or "",
        borough=borough or service.location.borough,
        at=at,
        within=within,
    )


SEARCH_ORIGIN = ("postcode", "lat", "lon", "age", "sex", "within")
# The urgency a search's window stands for, to start the form with.
URGENCY_FOR_WITHIN = {60: Urgency.WITHIN_1H, 240: Urgency.WITHIN_4H, 1440: Urgency.WITHIN_24H}


def search_context(query_string: str) -> dict[str, Any]:
    """The search a crew came from, carried by its query string through the refer link and
    the form: where "Back to search" goes, and the patient's age, sex and borough as the
    search judged them. An absent or invalid search gives no patient facts."""
    params = QueryDict(query_string or "")
    context: dict[str, Any] = {
        "query": params.urlencode(),
        "age": None,
        "sex": "",
        "borough": None,
        "within": None,
    }
    given = {name: params.get(name, "").strip() for name in SEARCH_ORIGIN}
    given = {name: value for name, value in given.items() if value}
    if "lat" in given or "lon" in given:
        given.pop("postcode", None)  # as the search does: the device's position wins
    if not given:
        return context
    try:
        query = search_query_from_params(given)
    except DomainError:
        return context
    context.update(
        age=query.age,
        sex=query.sex or "",
        borough=query.origin_borough,
        within=query.within if "within" in given else None,
    )
    return context


# --- the refer form --------------------------------------------------------------------


def _choices(choices, blank: str | None = None) -> list[tuple[str, str]]:
    return ([("", blank)] if blank is not None else []) + list(choices)


class ReferForm(forms.Form):
    """The flat fields of the page. It only carries and redisplays what was typed: the rules
    are ReferralCreateApi.InputSerializer's and referral_create's, mapped back by field."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)
    # The search this referral came from (its query string), for "Back to search".
    search = forms.CharField(widget=forms.HiddenInput, required=False)
    given_name = forms.CharField(label="First name", required=False)
    family_name = forms.CharField(label="Last name", required=False)
    nhs_number = forms.CharField(
        label="NHS number (if known)", required=False, help_text="For example, 485 777 3456"
    )
    dob_day = forms.CharField(label="Day", required=False)
    dob_month = forms.CharField(label="Month", required=False)
    dob_year = forms.CharField(label="Year", required=False)
    date_of_birth = forms.CharField(
        label="Date of birth", required=False, help_text="For example, 15 3 1984"
    )
    sex = forms.ChoiceField(label="Sex", choices=Sex.choices, required=False)
    phone = forms.CharField(label="Phone number (optional)", required=False)
    address = forms.CharField(label="Address (optional)", required=False)
    postcode = forms.CharField(label="Postcode (optional)", required=False)
    category = forms.ChoiceField(label="Category", choices=(), required=False)
    presenting_complaint = forms.CharField(label="Presenting complaint", required=False)
    summary = forms.CharField(label="Clinical summary (optional)", required=False)
    mobility = forms.ChoiceField(label="Mobility", choices=Mobility.choices, required=False)
    # Observations: the parts of a NEWS2 score, and the score (services' instructions ask
    # for it). All optional; the API's ObservationsSerializer checks each range.
    respiratory_rate = forms.CharField(label="Respiratory rate (per minute)", required=False)
    spo2 = forms.CharField(label="SpO2 (%)", required=False)
    supplemental_oxygen = forms.ChoiceField(
        label="Air or oxygen?",
        choices=[("", "Not recorded"), ("air", "Air"), ("oxygen", "Oxygen")],
        required=False,
    )
    systolic_bp = forms.CharField(label="Systolic blood pressure (mmHg)", required=False)
    heart_rate = forms.CharField(label="Pulse (per minute)", required=False)
    consciousness = forms.ChoiceField(
        label="Consciousness (ACVPU)",
        choices=[("", "Not recorded")]
        + list(ObservationsSerializer().fields["consciousness"].choices.items()),
        required=False,
    )
    temperature = forms.CharField(label="Temperature (°C)", required=False)
    news2 = forms.CharField(label="NEWS2 score", required=False)
    safeguarding_concern = forms.BooleanField(
        label="There is a safeguarding concern", required=False
    )
    safeguarding_details = forms.CharField(label="Safeguarding details (optional)", required=False)
    incident_reference = forms.CharField(
        label="Incident reference", required=False, help_text="The CAD incident number"
    )
    urgency = forms.ChoiceField(label="How soon", choices=Urgency.choices, required=False)
    consent = forms.BooleanField(
        label="The patient has given consent to this referral", required=False
    )

    def __init__(self, *args, service: Service, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.name) for c in service.categories.all()]
        if service.visits_at_home:
            self.fields["address"].label = "Address"
            self.fields["address"].help_text = "The team visits the patient here"


OBSERVATIONS = (
    "respiratory_rate",
    "spo2",
    "supplemental_oxygen",
    "systolic_bp",
    "heart_rate",
    "consciousness",
    "temperature",
    "news2",
)
# The observation's name in an error message ("SpO2 must be ...").
OBSERVATION_NAMES = {
    "respiratory_rate": "Respiratory rate",
    "spo2": "SpO2",
    "systolic_bp": "Systolic blood pressure",
    "heart_rate": "Pulse",
    "temperature": "Temperature",
    "news2": "NEWS2 score",
}


def _observation_error(name: str) -> str:
    """Say what to enter, from the API's own bounds for the observation."""
    field = ObservationsSerializer().fields[name]
    if name not in OBSERVATION_NAMES:
        return "Select one of the options"
    kind = "a number" if isinstance(field, drf_serializers.FloatField) else "a whole number"
    return (
        f"{OBSERVATION_NAMES[name]} must be {kind} from {field.min_value:g} to {field.max_value:g}"
    )


# Where each form field sits in the API's nested body.
FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "incident_reference": ("incident_reference",),
    "urgency": ("urgency",),
    "given_name": ("patient", "given_name"),
    "family_name": ("patient", "family_name"),
    "nhs_number": ("patient", "nhs_number"),
    "date_of_birth": ("patient", "date_of_birth"),
    "sex": ("patient", "sex"),
    "phone": ("patient", "phone"),
    "address": ("patient", "address"),
    "postcode": ("patient", "postcode"),
    "category": ("clinical", "category"),
    "presenting_complaint": ("clinical", "presenting_complaint"),
    "summary": ("clinical", "summary"),
    "mobility": ("clinical", "mobility"),
    **{name: ("clinical", "observations", name) for name in OBSERVATIONS},
    "safeguarding_concern": ("clinical", "safeguarding_concern"),
    "safeguarding_details": ("clinical", "safeguarding_details"),
    "consent": ("consent", "given"),
}
# What to do when a required answer is missing (NHS style: say what to do).
MISSING: dict[str, str] = {
    "given_name": "Enter the patient's first name",
    "family_name": "Enter the patient's last name",
    "date_of_birth": "Enter the patient's date of birth",
    "sex": "Select the patient's sex",
    "category": "Select a category",
    "presenting_complaint": "Enter the presenting complaint",
    "incident_reference": "Enter the incident reference",
    "urgency": "Select how soon the patient needs to be seen",
    "consent": "Confirm that the patient has given consent",
}
MISSING_CODES = {"required", "blank", "null"}


def _date_of_birth(data: dict) -> tuple[str | None, str | None]:
    """(ISO date or None, error or None) from the three boxes of the NHS date pattern."""
    parts = [str(data.get(k) or "").strip() for k in ("dob_day", "dob_month", "dob_year")]
    if not any(parts):
        return None, None
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day).isoformat(), None
    except ValueError:
        return None, "Date of birth must be a real date, for example 15 3 1984"


def _body_from(form: ReferForm, service: Service, dob: str | None) -> dict:
    """The API's nested body from the page's flat fields (blank optional answers left out)."""
    data = form.cleaned_data
    body: dict[str, Any] = {
        "service": service.pk,
        "patient": {},
        "clinical": {"observations": {}},
        "consent": {},
    }
    values = {name: data.get(name) for name in FIELD_PATHS}
    values["date_of_birth"] = dob
    values["supplemental_oxygen"] = {"air": False, "oxygen": True}.get(
        data.get("supplemental_oxygen") or ""
    )
    for name, path in FIELD_PATHS.items():
        value = values[name]
        if value in ("", None) and name not in {"consent", "safeguarding_concern"}:
            continue
        target = body
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    if not body["clinical"]["observations"]:
        del body["clinical"]["observations"]
    return body


def _serializer_errors_to_form(form: ReferForm, errors: dict) -> None:
    for name, path in FIELD_PATHS.items():
        found: Any = errors
        for part in path:
            found = found.get(part) if isinstance(found, dict) else None
        if not found or form.has_error(name):
            continue
        first = found[0] if isinstance(found, list) else found
        missing = getattr(first, "code", "") in MISSING_CODES or name == "consent"
        if name in OBSERVATIONS:
            form.add_error(name, _observation_error(name))
        else:
            form.add_error(name, MISSING[name] if missing and name in MISSING else str(first))
    if "service" in errors:
        form.add_error(None, " ".join(_messages_of(errors["service"])))


def _domain_error_to_form(form: ReferForm, error: DomainError) -> None:
    placed = False
    for name, path in FIELD_PATHS.items():
        found: Any = error.fields
        for part in path:
            found = found.get(part) if isinstance(found, dict) else None
        if found:
            form.add_error(name, " ".join(_messages_of(found)))
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _referral_create_once(*, user, key: str, body: dict, validated: dict) -> str | None:
    """Create the referral once per key; returns its id, or None while a first tap with
    this key is still being saved (the caller sends the crew to wait for it, never here)."""

    def create() -> tuple[int, dict]:
        referral = services.referral_create(user=user, data=validated)
        # Only the id is kept with the key: no patient detail is stored twice.
        return 201, {"id": str(referral.id)}

    try:
        _status, answer = idempotent_response(user=user, key=key, body=body, create=create)
    except Conflict as exc:
        if exc.code != "request_in_flight":
            raise
        return None
    return answer["id"]


FORM_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The sending page asks again every second, this many times, before saying it gave up.
SENDING_TRIES = 20


@crew_page
@require_GET
def referral_sending(request: HttpRequest, key: str) -> HttpResponse:
    """Where a double tap waits for the first tap's referral: the browser asks again each
    second (a Refresh header) and is sent on to the referral's status once it is saved;
    the server never waits. Only the crew's own form key is looked up."""
    found = (
        IdempotencyKey.objects.filter(user=request.user, key=key, completed_at__isnull=False)
        .values_list("response_body", flat=True)
        .first()
    )
    if found and found.get("id"):
        return redirect("referral-status", referral_id=found["id"])
    try:
        tries = min(max(int(request.GET.get("try", "0")), 0), SENDING_TRIES)
    except ValueError:
        tries = 0
    again = f"{reverse('referral-sending', args=[key])}?try={tries + 1}"
    context = {"gave_up": tries >= SENDING_TRIES, "again": again}
    response = render(request, "crew/refer_sending.html", context)
    if not context["gave_up"]:
        response["Refresh"] = f"1; url={again}"
    add_never_cache_headers(response)
    return response


def _refusal_message(service: Service, reason: str) -> str:
    phone = service.professional_phone or service.phone
    why = refusal_text(reason)
    text = f"{service.name} cannot take this referral: {why[:1].lower()}{why[1:]}."
    return f"{text} Phone {phone} to discuss the patient." if phone else text


@crew_page
def refer(request: HttpRequest, service_id: int) -> HttpResponse:
    """GET: the form, pre-filled from the search the crew came from, or, when the service
    cannot take this patient now, why not and its phone number instead of a form.
    POST: send the referral, once per key."""
    service = (
        Service.objects.select_related("organisation", "location__borough")
        .filter(pk=service_id, active=True)
        .first()
    )
    if service is None:
        raise Http404("No such service.")
    if not permissions.can_refer(request.user, service):
        raise PermissionDenied

    if request.method != "POST":
        search = search_context(request.GET.urlencode())
        # The search's urgency window; without one, the widest urgency the form offers, so
        # the page refuses only what no urgency could send (sending checks the one chosen).
        within = search["within"] if search["within"] is not None else MAX_WITHIN_MINUTES
        problem = refer_problem(
            user=request.user,
            service=service,
            age=search["age"],
            sex=search["sex"],
            borough=search["borough"],
            at=timezone.now(),
            within=timedelta(minutes=within),
        )
        if problem:
            # Refused before the crew types anything: the same answer sending would get.
            context = {"service": service, "search": search, "refusal": refusal_text(problem)}
            if problem == Reason.CLOSED:
                context["opens_at"] = service_opening_state(service, timezone.now()).next_change
            status = (
                409
                if problem in (Reason.FULL, Reason.NOT_TAKING, Reason.CLOSED, Reason.CLOSING_SOON)
                else 422
            )
            return render(request, "crew/refer.html", context, status=status)
        codes = [c.code for c in service.categories.all()]
        wanted = [c for c in request.GET.getlist("category") if c in codes]
        form = ReferForm(
            service=service,
            initial={
                "idempotency_key": uuid.uuid4().hex,
                "search": search["query"],
                "sex": search["sex"] if search["sex"] in Sex.values else "",
                "urgency": URGENCY_FOR_WITHIN.get(search["within"], Urgency.WITHIN_1H),
                "mobility": Mobility.UNKNOWN,
                "category": wanted[0] if wanted else (codes[0] if len(codes) == 1 else ""),
            },
        )
        return render(
            request, "crew/refer.html", {"form": form, "service": service, "search": search}
        )

    form = ReferForm(request.POST, service=service)
    form.is_valid()  # the page form only carries values; the API's serializer judges them
    search = search_context(form.cleaned_data.get("search") or "")
    page = {"form": form, "service": service, "search": search}
    dob, dob_error = _date_of_birth(request.POST)
    if dob_error:
        form.add_error("date_of_birth", dob_error)
    body = _body_from(form, service, dob)
    serializer = ReferralCreateApi.InputSerializer(data=body)
    if not serializer.is_valid():
        _serializer_errors_to_form(form, serializer.errors)
    # referral_create refuses this too; asked here so it shows with the other errors.
    address_problem = services.referral_address_problem(
        service=service, address=form.cleaned_data.get("address")
    )
    if address_problem and not form.has_error("address"):
        form.add_error("address", address_problem)
    key = form.cleaned_data.get("idempotency_key") or ""
    # The page's own keys are hex; anything else did not come from our form, and a key
    # must fit in the sending page's address.
    if not FORM_KEY.fullmatch(key):
        form.add_error(None, "The form has expired. Check the details and send it again.")
        form.data = form.data.copy()
        form.data["idempotency_key"] = uuid.uuid4().hex
    if form.errors:
        return render(request, "crew/refer.html", page, status=400)

    try:
        referral_id = _referral_create_once(
            user=request.user, key=key, body=body, validated=serializer.validated_data
        )
    except DomainError as exc:
        if exc.status_code == 403:
            raise PermissionDenied from exc
        if exc.code == "idempotency_key_reused":
            # The first answer went out with other details: this is a new referral.
            form.data = form.data.copy()
            form.data["idempotency_key"] = uuid.uuid4().hex
            form.add_error(
                None, "These details differ from a referral already sent. Check and send again."
            )
        elif exc.code in ("referral_refused", "no_capacity"):
            reason = exc.extra.get("reason") or Reason.FULL
            form.add_error(None, _refusal_message(service, reason))
        else:
            _domain_error_to_form(form, exc)
        return render(
            request,
            "crew/refer.html",
            page,
            status=exc.status_code if exc.status_code != 422 else 400,
        )
    if referral_id is None:
        return redirect("referral-sending", key=key)
    return redirect("referral-status", referral_id=referral_id)


# --- the crew's referral status, cancel, and list --------------------------------------


def _timeline_context(user, referral) -> dict:
    # The version first: a change made while the page is built is then shown again at the
    # next poll rather than missed.
    version = selectors.referral_version(referral=referral)
    return {
        "referral": referral,
        "version": version,
        "events": list(selectors.referral_events(referral=referral)),
        "actions": services.referral_actions_for(user=user, referral=referral),
    }


def _live_answer(request: HttpRequest, version: str, answer: Callable[[], dict]) -> HttpResponse:
    """A live part's poll: 204 when the page already shows this version (nothing rendered),
    else answer() as JSON with the new version."""
    if request.GET.get("v") == version:
        response: HttpResponse = HttpResponse(status=204)
    else:
        response = JsonResponse({**answer(), "version": version})
    response["Cache-Control"] = "no-store"
    return response


@crew_page
@require_GET
def referral_status(request: HttpRequest, referral_id) -> HttpResponse:
    referral = services.referral_read(
        request=request, referral_id=referral_id, channel=PatientAccess.Channel.PAGE
    )
    context = _timeline_context(request.user, referral)
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
        context = _timeline_context(request.user, referral)
        return {
            "status": referral.status,
            "done": referral.is_closed,
            "actions": context["actions"],
            "html": render_to_string("crew/_status_live.html", context, request=request),
        }

    return _live_answer(request, selectors.referral_version(referral=referral), answer)


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
        message = refused[0].page_error if refused else exc.message
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


# --- the partner's inbox and answers ---------------------------------------------------


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
    version = selectors.referral_list_version(user=request.user)  # first: see _timeline_context
    context = {**_inbox_context(request.user), "version": version}
    return render(request, "partner/inbox.html", context)


@partner_page
@require_GET
def inbox_live(request: HttpRequest) -> HttpResponse:
    def answer() -> dict:
        context = _inbox_context(request.user)
        html = render_to_string("partner/_inbox_live.html", context, request=request)
        return {"unanswered": context["unanswered"], "done": False, "html": html}

    return _live_answer(request, selectors.referral_list_version(user=request.user), answer)


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
    context = _timeline_context(request.user, referral)
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
    try:
        services.referral_transition(
            referral_id=referral.id,
            user=request.user,
            action=action,
            **form.transition_inputs(),
        )
    except DomainError as exc:
        if exc.status_code == 403:
            raise PermissionDenied from exc
        refused = machine.refused_inputs(action, exc)
        for wanted in refused:
            form.add_error(wanted.name, wanted.page_error or exc.message)
        if not refused:
            form.add_error(None, exc.message)
        referral.refresh_from_db()
        return _partner_referral_page(request, referral, form, status=exc.status_code)
    messages.success(request, ANSWERS[action].done)
    return redirect("partner-referral", referral_id=referral.id)
