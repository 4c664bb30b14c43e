"""Admin for the directory: partners keep their own listings; operators run the rest.

Every decision comes from directory.permissions. Partners see and change only their own
organisation's services, sites, hours, exceptions and capacity; every other model here
is for operators. Capacity is written only through directory.services.capacity_set, and
the search index is rebuilt whenever a service or a site changes.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.http import Http404

from config.errors import DomainError
from directory import permissions
from directory.index import service_index_rebuild
from directory.models import (
    Borough,
    Capacity,
    Category,
    Location,
    OpeningException,
    OpeningSpan,
    Organisation,
    Postcode,
    PostcodeArea,
    Role,
    SearchIndexCheck,
    SearchLog,
    Service,
    Sex,
    User,
)
from directory.postcodes import normalise_postcode, postcode_locate
from directory.services import (
    CAPACITY_MAX_MINUTES,
    CAPACITY_MIN_MINUTES,
    SETTABLE_STATUSES,
    capacity_set,
    location_save,
    service_save,
)

# Written only by capacity_set, never by a plain save of the admin form.
CAPACITY_FIELDS = {
    "capacity_status",
    "capacity_slots",
    "capacity_updated_at",
    "capacity_updated_by",
    "capacity_expires_at",
}
# What a user types to report capacity (the expiry only on the change form).
CAPACITY_INPUTS = {"capacity_status", "capacity_slots", "capacity_expires_in_minutes"}


# --- access --------------------------------------------------------------------------


class OperatorOnlyAdmin(admin.ModelAdmin):
    """Reference data, organisations, users: operators only."""

    def has_module_permission(self, request) -> bool:
        return permissions.is_operator(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_add_permission(self, request) -> bool:
        return permissions.is_operator(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)


class OrganisationScopedAdmin(admin.ModelAdmin):
    """Rows of one organisation: partners their own, operators all."""

    organisation_path = "organisation"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return permissions.organisation_scoped(request.user, queryset, self.organisation_path)

    def get_object(self, request, object_id, from_field=None):
        # Another organisation's row does not exist for a partner: 404, not a redirect
        # that tells them it "doesn't exist" in a friendlier way.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def _owns(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request) -> bool:
        return permissions.can_use_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user) and self._owns(request, obj)

    def has_add_permission(self, request) -> bool:
        return permissions.can_use_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return permissions.can_use_admin(request.user) and self._owns(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A partner may only pick their own organisation and its sites.
        if db_field.name == "organisation":
            kwargs["queryset"] = permissions.organisations_administered_by(
                request.user, Organisation.objects.all()
            )
        elif db_field.name == "location":
            kwargs["queryset"] = permissions.organisation_scoped(
                request.user, Location.objects.select_related("borough")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if not permissions.is_operator(request.user) and request.user.organisation_id:
            initial.setdefault("organisation", request.user.organisation_id)
        return initial

    def get_list_filter(self, request):
        # The organisation filter would list every organisation's name: operators only.
        filters = list(super().get_list_filter(request))
        if not permissions.is_operator(request.user) and "organisation" in filters:
            filters.remove("organisation")
        return filters


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


def _capacity_errors(form: forms.ModelForm) -> None:
    """The rules capacity_set applies, checked early so the admin shows them on the form."""
    if not CAPACITY_INPUTS & set(form.changed_data):
        return
    status = form.cleaned_data.get("capacity_status")
    if status not in SETTABLE_STATUSES:
        form.add_error("capacity_status", "Choose green, amber or red to report capacity.")


class ServiceCapacityListForm(forms.ModelForm):
    """The capacity columns of the service list."""

    class Meta:
        model = Service
        fields = ["capacity_status", "capacity_slots"]

    def clean(self):
        cleaned = super().clean()
        _capacity_errors(self)
        return cleaned


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
        _capacity_errors(self)
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
            try:
                capacity_set(
                    service=obj,
                    user=request.user,
                    status=status,
                    slots=slots,
                    expires_in_minutes=form.cleaned_data.get("capacity_expires_in_minutes"),
                )
            except DomainError as exc:
                # The admin wraps the save in a transaction: refuse all of it.
                transaction.set_rollback(True)
                details = " ".join(f"{name}: {text}" for name, text in exc.fields.items())
                self.message_user(
                    request, f"Nothing was saved. {exc.message} {details}", messages.ERROR
                )

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


# --- operators only ------------------------------------------------------------------


@admin.register(Organisation)
class OrganisationAdmin(OperatorOnlyAdmin):
    list_display = ["name", "ods_code", "kind", "ics", "borough"]
    list_filter = ["kind", "ics"]
    search_fields = ["name", "ods_code"]


@admin.register(User)
class UserAdmin(OperatorOnlyAdmin, DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "role",
        "organisation",
        "is_staff",
        "is_active",
    ]
    list_filter = ["role", "is_staff", "is_active"]
    list_select_related = ["organisation"]
    search_fields = ["username", "first_name", "last_name", "email", "organisation__name"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        (
            "Access",
            {
                "fields": ["organisation", "role", "is_active", "is_staff", "is_superuser"],
                "description": "Partners and operators also need 'staff status' for the admin.",
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "organisation",
                    "role",
                    "is_staff",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")  # only a superuser makes another
        return fields


@admin.register(Category)
class CategoryAdmin(OperatorOnlyAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Borough)
class BoroughAdmin(OperatorOnlyAdmin):
    list_display = ["name", "gss_code", "ics", "centre_latitude", "centre_longitude"]
    list_filter = ["ics"]


@admin.register(Postcode)
class PostcodeAdmin(OperatorOnlyAdmin):
    list_display = ["postcode", "latitude", "longitude", "borough", "local_authority_code"]
    list_select_related = ["borough"]
    search_fields = ["postcode"]
    list_filter = ["borough__ics"]
    show_full_result_count = False  # the ONSPD holds millions of rows


@admin.register(PostcodeArea)
class PostcodeAreaAdmin(OperatorOnlyAdmin):
    """Read-only: the migration loads these from directory/data/postcode_areas.csv."""

    list_display = ["code", "kind", "latitude", "longitude", "borough", "local_authority_code"]
    list_select_related = ["borough"]
    search_fields = ["code"]
    list_filter = ["kind", "borough__ics"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SearchLog)
class SearchLogAdmin(OperatorOnlyAdmin):
    list_display = ["created_at", "borough", "postcode_district", "categories", "result_count"]
    list_filter = ["fallback_shown", "borough__ics"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SearchIndexCheck)
class SearchIndexCheckAdmin(OperatorOnlyAdmin):
    """Read-only: `manage.py check_search_index` writes one row per run."""

    list_display = ["checked_at", "rows_checked", "differences"]
    fields = ["checked_at", "rows_checked", "differences", "report"]
    readonly_fields = fields
    date_hierarchy = "checked_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- login lockouts (django-axes) ---------------------------------------------------------


@admin.register(AccessAttempt)
class LoginLockoutAdmin(AxesAccessAttemptAdmin):
    """Operators see failed logins and unlock an account by deleting its row."""

    def has_module_permission(self, request) -> bool:
        return permissions.is_operator(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return permissions.is_operator(request.user)
