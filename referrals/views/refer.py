"""The crew's refer page: whether this crew can refer this patient to this service (and
why not), the form pre-filled from the search the crew came from, sending once per form key,
and the page a double tap waits on."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from config.errors import Conflict, DomainError
from directory import permissions
from directory.hours import service_opening_state
from directory.models import Borough, Service, Sex
from directory.search import search_query_from_params
from directory.selectors import Reason, service_referral_problem
from directory.timing import MAX_WITHIN_MINUTES
from referrals import services
from referrals.api import ReferralCreateApi
from referrals.idempotency import idempotent_response
from referrals.models import IdempotencyKey, Mobility, Urgency
from referrals.views.refer_form import (
    ReferForm,
    body_from,
    date_of_birth_from,
    domain_error_to_form,
    serializer_errors_to_form,
)
from referrals.views.shared import crew_page

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


# --- the refer page and its sending wait -----------------------------------------------


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
    dob, dob_error = date_of_birth_from(request.POST)
    if dob_error:
        form.add_error("date_of_birth", dob_error)
    body = body_from(form, service, dob)
    serializer = ReferralCreateApi.InputSerializer(data=body)
    if not serializer.is_valid():
        serializer_errors_to_form(form, serializer.errors)
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
            domain_error_to_form(form, exc)
        return render(
            request,
            "crew/refer.html",
            page,
            status=exc.status_code if exc.status_code != 422 else 400,
        )
    if referral_id is None:
        return redirect("referral-sending", key=key)
    return redirect("referral-status", referral_id=referral_id)
