"""Services, their weekly hours and dated exceptions, and sites: partners keep their own.

Partners see and change only their own organisation's rows (directory.admin.access);
capacity is reported through directory.admin.capacity, and the search index is rebuilt
whenever a service or a site changes.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from config.errors import DomainError
from directory import permissions
from directory.admin.access import OrganisationScopedAdmin
from directory.admin.capacity import (
    CAPACITY_FIELDS,
    CAPACITY_INPUTS,
    ServiceCapacityListForm,
    capacity_errors,
    capacity_save,
)
from directory.index import service_index_rebuild
from directory.models import (
    Borough,
    Capacity,
    Location,
    OpeningException,
    OpeningSpan,
    Role,
    Service,
    Sex,
)
from directory.postcodes import normalise_postcode, postcode_locate
from directory.services import (
    CAPACITY_MAX_MINUTES,
    CAPACITY_MIN_MINUTES,
    location_save,
    service_save,
)


class _ServiceChildInline:
    """Hours and exceptions: whoever may change the service may change these."""

    extra = 0

    def _may(self, request, obj) -> bool:
        if not permissions.can_use_admin(request.user):
            return False
        if obj is None:
            return True
        editable = permissions.services_editable_by(request.user, Service.objects.all())
        return editable.filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may(request, obj)


# --- services --------------------------------------------------------------------------


class OpeningSpanInline(_ServiceChildInline, admin.TabularInline):
    model = OpeningSpan
    fields = ["weekday", "opens", "closes"]
    verbose_name = "weekly opening"
    verbose_name_plural = "weekly hours (Europe/London; closing at or before opening runs "
    "overnight; 00:00-00:00 is all day)"


class OpeningExceptionInline(_ServiceChildInline, admin.TabularInline):
    model = OpeningException
    fields = ["date", "closed", "opens", "closes", "note"]
    verbose_name = "dated exception"
    # Nothing is ticked for a new row: the partner says which of the two it is.
    verbose_name_plural = (
        "dated exceptions (tick closed all day, or enter the hours it opens instead; not both)"
    )


class ServiceForm(forms.ModelForm):
    sexes = forms.MultipleChoiceField(
        choices=Sex.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for any sex.",
    )
    referral_roles = forms.MultipleChoiceField(
        choices=[(Role.CREW, Role.CREW.label), (Role.PARTNER, Role.PARTNER.label)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Who may refer into this service (none ticked: crews).",
    )
    capacity_expires_in_minutes = forms.IntegerField(
        required=False,
        min_value=CAPACITY_MIN_MINUTES,
        max_value=CAPACITY_MAX_MINUTES,
        label="Capacity live for (minutes)",
        help_text="After this the status reads Unknown. Default: the system setting.",
    )

    class Meta:
        model = Service
        # Capacity who/when/expiry are written by capacity_set alone.
        fields = [
            "organisation",
            "name",
            "public_name",
            "description",
            "location",
            "active",
            "categories",
            "min_age",
            "max_age",
            "sexes",
            "inclusion_criteria",
            "exclusion_criteria",
            "boroughs_covered",
            "phone",
            "professional_phone",
            "referral_instructions",
            "referral_roles",
            "accepts_referrals_when_closed",
            "acknowledge_within_minutes",
            "answer_within_minutes",
            "bank_holiday_hours",
            "capacity_status",
            "capacity_slots",
        ]
        widgets = {"categories": forms.CheckboxSelectMultiple}

    def clean(self):
        cleaned = super().clean()
        organisation, location = cleaned.get("organisation"), cleaned.get("location")
        if organisation and location and location.organisation_id != organisation.pk:
            self.add_error("location", "Choose one of this organisation's sites.")
        # The database's age-range constraint would say only its own name; say which box.
        youngest, oldest = cleaned.get("min_age"), cleaned.get("max_age")
        if youngest is not None and oldest is not None and oldest < youngest:
            self.add_error(
                "max_age", f"The highest age must be at least the lowest age ({youngest})."
            )
        capacity_errors(self)
        return cleaned


@admin.register(Service)
class ServiceAdmin(OrganisationScopedAdmin):
    form = ServiceForm
    inlines = [OpeningSpanInline, OpeningExceptionInline]
    list_display = [
        "name",
        "organisation",
        "borough",
        "capacity_status",
        "capacity_slots",
        "capacity_now",
        "capacity_expires_at",
        "capacity_updated_by",
        "active",
    ]
    list_editable = ["capacity_status", "capacity_slots"]
    list_filter = [
        "active",
        "capacity_status",
        "location__borough__ics",
        "categories",
        "organisation",
    ]
    list_select_related = ["organisation", "location__borough", "capacity_updated_by"]
    search_fields = ["name", "public_name", "location__postcode", "location__borough__name"]
    filter_horizontal = ["boroughs_covered"]
    readonly_fields = ["capacity_updated_at", "capacity_updated_by", "capacity_expires_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "organisation",
                    "name",
                    "public_name",
                    "description",
                    "location",
                    "active",
                ]
            },
        ),
        (
            "Categories and eligibility",
            {
                "fields": [
                    "categories",
                    ("min_age", "max_age"),
                    "sexes",
                    "inclusion_criteria",
                    "exclusion_criteria",
                    "boroughs_covered",
                ]
            },
        ),
        (
            "Referrals",
            {
                "fields": [
                    ("phone", "professional_phone"),
                    "referral_instructions",
                    "referral_roles",
                    ("accepts_referrals_when_closed", "visits_at_home"),
                    ("acknowledge_within_minutes", "answer_within_minutes"),
                ]
            },
        ),
        ("Hours", {"fields": ["bank_holiday_hours"]}),
        (
            "Capacity",
            {
                "fields": [
                    ("capacity_status", "capacity_slots", "capacity_expires_in_minutes"),
                    ("capacity_updated_at", "capacity_updated_by", "capacity_expires_at"),
                ]
            },
        ),
    ]

    @admin.display(description="borough", ordering="location__borough__name")
    def borough(self, obj: Service) -> str:
        return obj.location.borough.name

    @admin.display(description="capacity now")
    def capacity_now(self, obj: Service) -> str:
        return obj.capacity_at()

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", ServiceCapacityListForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request, obj: Service, form, change: bool) -> None:
        # A new expiry alone renews the status shown on the form.
        capacity_changed = bool(CAPACITY_INPUTS & set(form.changed_data))
        status, slots = obj.capacity_status, obj.capacity_slots
        if not change:
            obj.capacity_status, obj.capacity_slots = Capacity.UNKNOWN, None
            service_save(service=obj)
        else:
            others = [
                f.name
                for f in Service._meta.concrete_fields
                if f.name in form.fields and not f.primary_key and f.name not in CAPACITY_FIELDS
            ]
            # The list's capacity form has no other fields: nothing else is re-written.
            if others:
                service_save(service=obj, update_fields=[*others, "updated_at"])
        if capacity_changed:
            capacity_save(self, request, obj, form, status=status, slots=slots)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Categories, area and weekly hours (inlines) feed the search index; the admin's
        # transaction holds this with the save.
        service_index_rebuild(service=form.instance)


# --- sites ---------------------------------------------------------------------------


class LocationForm(forms.ModelForm):
    latitude = forms.FloatField(
        required=False, min_value=-90, max_value=90, help_text="Blank: from the postcode."
    )
    longitude = forms.FloatField(
        required=False, min_value=-180, max_value=180, help_text="Blank: from the postcode."
    )
    borough = forms.ModelChoiceField(
        Borough.objects.all(), required=False, help_text="Blank: from the postcode."
    )

    class Meta:
        model = Location
        fields = ["organisation", "name", "address", "postcode", "latitude", "longitude", "borough"]

    def clean_postcode(self) -> str:
        postcode = normalise_postcode(self.cleaned_data.get("postcode", ""))
        if postcode is None:
            raise forms.ValidationError("Enter a UK postcode, e.g. SW1A 1AA.")
        return postcode

    def clean(self):
        cleaned = super().clean()
        postcode = cleaned.get("postcode")
        if postcode and (cleaned.get("latitude") is None or cleaned.get("longitude") is None):
            try:
                place = postcode_locate(postcode)
            except DomainError:
                self.add_error("latitude", "This postcode is not known: enter the coordinates.")
                return cleaned
            cleaned["latitude"], cleaned["longitude"] = place.latitude, place.longitude
            if cleaned.get("borough") is None:
                cleaned["borough"] = place.borough
        if postcode and cleaned.get("borough") is None:
            self.add_error("borough", "Choose the borough: the postcode does not say.")
        return cleaned


@admin.register(Location)
class LocationAdmin(OrganisationScopedAdmin):
    form = LocationForm
    list_display = ["__str__", "address", "postcode", "borough", "organisation"]
    list_filter = ["borough__ics", "borough", "organisation"]
    list_select_related = ["borough", "organisation"]
    search_fields = ["name", "address", "postcode"]

    def save_model(self, request, obj: Location, form, change: bool) -> None:
        # Services at a moved site must be found at its new place.
        location_save(location=obj)
