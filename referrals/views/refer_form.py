"""The refer page's form: flat fields that carry what the crew typed, mapped onto the
API's nested body (ReferralCreateApi.InputSerializer) and its refusals mapped back onto the
fields, with NHS-style messages."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from rest_framework import serializers as drf_serializers

from config.errors import DomainError
from directory.models import Service, Sex
from referrals.api import ObservationsSerializer
from referrals.models import Mobility, Urgency


def _messages_of(value: Any) -> list[str]:
    """A DomainError's or serializer's field value (str, list or nested dict) as strings."""
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages_of(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages_of(v)]
    return [str(value)]


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


def date_of_birth_from(data: dict) -> tuple[str | None, str | None]:
    """(ISO date or None, error or None) from the three boxes of the NHS date pattern."""
    parts = [str(data.get(k) or "").strip() for k in ("dob_day", "dob_month", "dob_year")]
    if not any(parts):
        return None, None
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day).isoformat(), None
    except ValueError:
        return None, "Date of birth must be a real date, for example 15 3 1984"


def body_from(form: ReferForm, service: Service, dob: str | None) -> dict:
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


def serializer_errors_to_form(form: ReferForm, errors: dict) -> None:
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


def domain_error_to_form(form: ReferForm, error: DomainError) -> None:
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
