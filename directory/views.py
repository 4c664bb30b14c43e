"""Directory pages: the crew's search, and the partner's capacity page.

The search runs directory.search (the same functions as the API); capacity is set with
directory.services.capacity_set. Access is decided by directory.permissions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config.errors import DomainError
from directory import permissions
from directory.models import Capacity, Category, Service, Sex
from directory.postcodes import outward_code_only
from directory.search import (
    SearchQuery,
    search_query_from_params,
    service_search,
)
from directory.selectors import capacity_live
from directory.services import CAPACITY_MAX_SLOTS, capacity_set
from referrals.views.refer import refer_problem, refusal_text
from referrals.views.shared import crew_page, partner_page

# --- search ------------------------------------------------------------------------------


class SearchForm(forms.Form):
    """The search page's fields, named as the API's parameters; search_query_from_params
    judges them and its errors are mapped back here."""

    postcode = forms.CharField(label="Postcode", required=False, help_text="For example, SE1 7EH")
    lat = forms.CharField(widget=forms.HiddenInput, required=False)
    lon = forms.CharField(widget=forms.HiddenInput, required=False)
    age = forms.CharField(label="Patient's age in years", required=False)
    sex = forms.ChoiceField(
        label="Patient's sex", choices=[("", "Not known")] + Sex.choices[:3], required=False
    )
    category = forms.MultipleChoiceField(
        label="What does the patient need?",
        required=False,
        help_text="Select all that apply, or none for every kind of service",
    )
    within = forms.ChoiceField(
        label="How soon must the patient be seen?",
        choices=[
            ("now", "Now"),
            ("1h", "Within 1 hour"),
            ("4h", "Within 4 hours"),
            ("24h", "Within 24 hours"),
        ],
        required=False,
        help_text="Services that open within this time are shown after the open ones",
    )
    open = forms.BooleanField(
        label="Only services that can take the patient in time", required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            (c.code, c.name) for c in Category.objects.exclude(code="emergency-department")
        ]


SEARCH_FIELDS = {"postcode", "lat", "lon", "age", "sex", "category", "open", "within"}


def _minutes_ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    minutes = max(0, int((now - moment).total_seconds() // 60))
    if minutes < 1:
        return "updated just now"
    if minutes < 120:
        return f"updated {minutes} min ago"
    return f"updated {minutes // 60} hours ago"


def _clock(moment: datetime, now: datetime) -> str:
    local = timezone.localtime(moment)
    text = local.strftime("%H:%M")
    days = (local.date() - timezone.localtime(now).date()).days
    if days == 1:
        return f"{text} tomorrow"
    if days > 1:
        return f"{text} on {local.strftime('%A')}"
    return text


def _wait(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def _card(item: dict, now: datetime) -> dict:
    """One search result with the words the page shows (times, capacity and its age)."""
    change_at = item.get("next_change")
    opens = item.get("opens_at")
    if opens:
        # Opens within the urgency window: the same words on the card as on the API.
        when = _clock(opens, now)
        hours = f"Opens {when}, in {_wait(item['opens_in_minutes'])}"
    elif item["open_now"]:
        hours = f"Open until {_clock(change_at, now)}" if change_at else "Open 24 hours"
    elif item.get("accepts_referrals_when_closed"):
        opening = f", opens at {_clock(change_at, now)}" if change_at else ""
        hours = f"Closed, takes referrals now{opening}"
    else:
        hours = f"Closed, opens at {_clock(change_at, now)}" if change_at else "Closed"
    capacity = item["capacity"]
    updated_at = capacity.get("updated_at")
    status = capacity["status"]
    return {
        **item,
        "hours_text": hours,
        "capacity_status": status,
        "capacity_text": {
            Capacity.GREEN: "Taking referrals",
            Capacity.AMBER: "Under pressure",
            Capacity.RED: "Not taking referrals",
        }.get(status, "Capacity unknown"),
        "capacity_age": _minutes_ago(updated_at, now) if status != Capacity.UNKNOWN else "",
        "distance_text": f"{item['distance_km']:.1f} km" if item["distance_km"] is not None else "",
    }


@crew_page
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Empty: the form (open now ticked). With answers: results, left-out services, fallback."""
    submitted = "searched" in request.GET
    form = SearchForm(request.GET if submitted else None, initial={"open": True})
    context: dict = {"form": form, "submitted": submitted}
    if not submitted:
        return render(request, "crew/search.html", context)

    form.is_valid()  # the form only carries values; search_query_from_params judges them
    params = {name: request.GET.get(name, "").strip() for name in ("postcode", "lat", "lon")}
    params.update(age=request.GET.get("age", "").strip(), sex=request.GET.get("sex", "").strip())
    params = {name: value for name, value in params.items() if value}
    if "lat" in params or "lon" in params:
        params.pop("postcode", None)  # the device's position wins over an earlier postcode
    elif "postcode" not in params:
        form.add_error("postcode", "Enter a postcode, or use your location")
        return render(request, "crew/search.html", context, status=400)
    params["category"] = request.GET.getlist("category")
    params["open"] = "true" if request.GET.get("open") else "false"
    if request.GET.get("within"):
        params["within"] = request.GET["within"]
    params["explain"] = "true"  # the "why are some services not shown?" list
    try:
        query = search_query_from_params(params)
        result = service_search(query=query, logged_for=request.user)
    except DomainError as exc:
        _search_error_to_form(form, exc)
        return render(request, "crew/search.html", context, status=400)
    now = timezone.now()
    problems = _refer_problems(request.user, query, [item["id"] for item in result.results])
    cards = [_card(item, now) for item in result.results]
    for card in cards:
        problem = problems.get(card["id"])
        card["refer_problem"] = refusal_text(problem) if problem else ""
    context.update(
        {
            "result": result,
            "cards": cards,
            "fallback": [_card(item, now) for item in result.fallback],
            "excluded": [
                {**item, "reason_text": refusal_text(item["reason"])} for item in result.excluded
            ],
            "used_location": "lat" in params,
            # Carried by each Refer link, so the form knows the patient and can come back.
            "search_query": request.GET.urlencode(),
        }
    )
    return render(request, "crew/search.html", context)


def _refer_problems(user, query: SearchQuery, service_ids: list[int]) -> dict[int, str | None]:
    """For each result, why a referral from this search would be refused now (None: it
    would be sent), asked of the rule referral_create applies."""
    found = (
        Service.objects.filter(pk__in=service_ids)
        .select_related("location__borough")
        .prefetch_related("boroughs_covered", "opening_spans", "opening_exceptions")
    )
    return {
        service.pk: refer_problem(
            user=user,
            service=service,
            age=query.age,
            sex=query.sex,
            borough=query.origin_borough,
            at=query.at,
            within=timedelta(minutes=query.within),
        )
        for service in found
    }


def _search_error_to_form(form: SearchForm, error: DomainError) -> None:
    placed = False
    for name, value in (error.fields or {}).items():
        field = "postcode" if name in {"lat", "lon"} else name
        if field not in SEARCH_FIELDS:
            continue
        if form.has_error(field):
            # The form's own check already named this field (a made-up choice).
            placed = True
            continue
        message = " ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        if field == "postcode":
            message = {
                "invalid_postcode": "Enter a real postcode, for example SE1 7EH",
                "unknown_postcode": "We do not know this postcode: check it, or use your location",
            }.get(error.code, message)
            outward = outward_code_only(form.data.get("postcode", ""))
            if error.code == "invalid_postcode" and outward:
                # A real district, so "real postcode" would mislead: say what is missing.
                message = (
                    f"Enter the whole postcode, not just {outward}, for example SE1 7EH, "
                    "or use your location"
                )
        elif field == "age":
            message = "Age must be a whole number of years, for example 78"
        form.add_error(field, message)
        placed = True
    if not placed:
        form.add_error(None, error.message)


# --- capacity ----------------------------------------------------------------------------

EXPIRY_CHOICES = [
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (480, "8 hours"),
    (720, "12 hours"),
    (1440, "24 hours"),
]


class CapacityForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(c, c) for c in (Capacity.GREEN, Capacity.AMBER, Capacity.RED)]
    )
    slots = forms.IntegerField(
        label="Slots left (optional)", required=False, min_value=0, max_value=CAPACITY_MAX_SLOTS
    )
    expires_in_minutes = forms.TypedChoiceField(
        label="Valid for", choices=EXPIRY_CHOICES, coerce=int, required=False
    )


def _organisation_services(user):
    return (
        permissions.services_editable_by(user, Service.objects.all())
        .select_related("location")
        .order_by("name", "id")
    )


def _int_or(raw, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def _capacity_rows(user, errors: dict | None = None, posted: dict | None = None) -> list[dict]:
    now = timezone.now()
    default_ttl = settings.CAPACITY_DEFAULT_TTL_MINUTES
    rows = []
    for service in _organisation_services(user):
        mine = posted if posted and posted.get("service") == service.pk else None
        rows.append(
            {
                "service": service,
                "capacity": capacity_live(service, now),
                "errors": (errors or {}).get(service.pk, []),
                "slots": mine["slots"] if mine else "",
                "expires_in": _int_or(mine["expires_in"], default_ttl) if mine else default_ttl,
            }
        )
    return rows


@partner_page
@require_GET
def capacity(request: HttpRequest) -> HttpResponse:
    """Every service of the partner's organisation with its capacity, each set in one tap."""
    return render(
        request,
        "partner/capacity.html",
        {"rows": _capacity_rows(request.user), "expiry_choices": EXPIRY_CHOICES},
    )


@partner_page
@require_POST
def capacity_update(request: HttpRequest, service_id: int) -> HttpResponse:
    service = get_object_or_404(_organisation_services(request.user), pk=service_id)
    if not permissions.can_set_capacity(request.user, service):
        raise PermissionDenied
    form = CapacityForm(request.POST)
    problems: list[str] = []
    if form.is_valid():
        try:
            capacity_set(
                service=service,
                user=request.user,
                status=form.cleaned_data["status"],
                slots=form.cleaned_data["slots"],
                expires_in_minutes=form.cleaned_data["expires_in_minutes"] or None,
            )
        except DomainError as exc:
            if exc.status_code == 403:
                raise PermissionDenied from exc
            problems = [str(v) for v in exc.fields.values()] or [exc.message]
    else:
        problems = [
            f"Slots left must be a whole number, 0 to {CAPACITY_MAX_SLOTS}"
            if name == "slots"
            else f"{form.fields[name].label or name}: {errs[0]}"
            for name, errs in form.errors.items()
        ]
    if problems:
        posted = {
            "service": service.pk,
            "slots": request.POST.get("slots", ""),
            "expires_in": request.POST.get("expires_in_minutes") or 0,
        }
        return render(
            request,
            "partner/capacity.html",
            {
                "rows": _capacity_rows(request.user, {service.pk: problems}, posted),
                "expiry_choices": EXPIRY_CHOICES,
                "error_service": service,
            },
            status=400,
        )
    label = dict(Capacity.choices)[form.cleaned_data["status"]].split(":")[0]
    messages.success(request, f"{service.name}: capacity set to {label}")
    return redirect("capacity")
