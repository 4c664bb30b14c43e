"""Referrals API: create (idempotent), list, read (audited) and events, with the shapes
of a referral in and out. The state machine's actions are in api_actions.py.

One APIView per operation, nested InputSerializer/OutputSerializer; the work happens in
services.py and selectors.py. The referral's UUID is the only identifier in URLs; no
patient detail is ever put in a URL or a log line.
"""

from __future__ import annotations

import functools
from datetime import date

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.utils.serializer_helpers import BindingDict
from rest_framework.views import APIView

from config.pagination import PageNumberPagination
from directory import permissions
from directory.models import Sex
from directory.postcodes import normalise_postcode
from referrals import selectors, services
from referrals.api_output import referral_detail
from referrals.idempotency import check_key, idempotent_response
from referrals.models import Mobility, PatientAccess, Urgency
from referrals.nhs_number import normalise_nhs_number

NO_STORE = "no-store, private"

# --- input ---------------------------------------------------------------------------


class ObservationsSerializer(serializers.Serializer):
    """Structured observations; every one optional, each within a physiological range."""

    respiratory_rate = serializers.IntegerField(required=False, min_value=0, max_value=80)
    spo2 = serializers.IntegerField(required=False, min_value=50, max_value=100)
    supplemental_oxygen = serializers.BooleanField(required=False)
    heart_rate = serializers.IntegerField(required=False, min_value=0, max_value=300)
    systolic_bp = serializers.IntegerField(required=False, min_value=0, max_value=300)
    diastolic_bp = serializers.IntegerField(required=False, min_value=0, max_value=200)
    temperature = serializers.FloatField(required=False, min_value=25.0, max_value=45.0)
    consciousness = serializers.ChoiceField(
        required=False,
        choices=[
            ("A", "Alert"),
            ("C", "New confusion"),
            ("V", "Voice"),
            ("P", "Pain"),
            ("U", "Unresponsive"),
        ],
    )
    blood_glucose = serializers.FloatField(required=False, min_value=0.0, max_value=50.0)
    news2 = serializers.IntegerField(required=False, min_value=0, max_value=20)


class PatientSerializer(serializers.Serializer):
    nhs_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField(allow_null=True)
    sex = serializers.ChoiceField(choices=Sex.choices)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=10)

    def validate_nhs_number(self, value: str) -> str:
        if not value.strip():
            return ""
        normal = normalise_nhs_number(value)
        if normal is None:
            raise serializers.ValidationError("Not a valid NHS number (Modulus 11 check).")
        return normal

    def validate_date_of_birth(self, value: date | None) -> date | None:
        if value is None:  # unknown (an unconscious patient without papers)
            return None
        today = timezone.localdate()
        if value > today:
            raise serializers.ValidationError("The date of birth is in the future.")
        if today.year - value.year > 130:
            raise serializers.ValidationError("The date of birth is too long ago.")
        return value

    def validate_postcode(self, value: str) -> str:
        if not value.strip():
            return ""
        normal = normalise_postcode(value)
        if normal is None:
            raise serializers.ValidationError("Not a UK postcode.")
        return normal


class ClinicalSerializer(serializers.Serializer):
    category = serializers.SlugField(max_length=40)
    presenting_complaint = serializers.CharField(max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    observations = ObservationsSerializer(required=False)
    safeguarding_concern = serializers.BooleanField(required=False, default=False)
    safeguarding_details = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    mobility = serializers.ChoiceField(choices=Mobility.choices, required=False, default="unknown")


class ConsentSerializer(serializers.Serializer):
    given = serializers.BooleanField()

    def validate_given(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("The patient's consent must be given.")
        return value


# --- output --------------------------------------------------------------------------


class _NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReferralSummarySerializer(serializers.Serializer):
    """A referral without patient details (lists, answers to transitions)."""

    id = serializers.UUIDField()
    status = serializers.CharField()
    urgency = serializers.CharField()
    incident_reference = serializers.CharField()
    service = _NamedSerializer()
    receiving_organisation = _NamedSerializer(source="service.organisation")
    referring_organisation = _NamedSerializer()
    category = serializers.CharField(source="category.code")
    age_band = serializers.CharField()
    decline_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    acknowledge_due_at = serializers.DateTimeField()
    answer_due_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    actions = serializers.SerializerMethodField()

    def get_actions(self, referral) -> list[str]:
        user = self.context.get("user")
        return services.referral_actions_for(user=user, referral=referral) if user else []


class _PatientOutSerializer(serializers.Serializer):
    nhs_number = serializers.CharField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    sex = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    postcode = serializers.CharField()
    age_band = serializers.CharField()
    borough = serializers.CharField(source="patient_borough.name", default=None, allow_null=True)
    details_purged_at = serializers.DateTimeField(
        source="patient_details_purged_at", allow_null=True
    )


class _ClinicalOutSerializer(serializers.Serializer):
    category = serializers.CharField(source="category.code")
    presenting_complaint = serializers.CharField()
    summary = serializers.CharField()
    observations = serializers.JSONField()
    safeguarding_concern = serializers.BooleanField()
    safeguarding_details = serializers.CharField()
    mobility = serializers.CharField()


class _ConsentOutSerializer(serializers.Serializer):
    given = serializers.BooleanField(source="consent_given")
    recorded_at = serializers.DateTimeField(source="consent_recorded_at")


class ReferralDetailSerializer(ReferralSummarySerializer):
    """A referral with its patient details: every read of it must be audited."""

    referring_user = serializers.CharField(
        source="referring_user.username", default=None, allow_null=True
    )
    patient = _PatientOutSerializer(source="*")
    clinical = _ClinicalOutSerializer(source="*")
    consent = _ConsentOutSerializer(source="*")
    decline_note = serializers.CharField()
    outcome = serializers.CharField()
    cancel_reason = serializers.CharField()
    holds_slot = serializers.BooleanField()


class ReferralEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(source="event_type")
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    at = serializers.DateTimeField(source="created_at")
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    actor_organisation = serializers.CharField(
        source="actor_organisation.name", default=None, allow_null=True
    )
    reason_code = serializers.CharField()
    note = serializers.CharField()


# --- views ---------------------------------------------------------------------------


class _FieldsBuiltOnce(serializers.Serializer):
    """An input serializer whose fields, nested serializers' included, are built once per
    class and shared by every instance.

    DRF deep-copies each declared field per instance so that one instance may change its
    own; the create body's ~30 fields are never changed, and copying them cost more CPU than
    validating them. Only for serializers whose fields keep nothing of a request: plain
    fields and validate_<name> methods, no context, never partial; validating writes nothing
    on a field, so gunicorn's threads share them too. The fields are bound to an instance
    made without data, so no request's body outlives its request.
    """

    @property
    def fields(self):
        return _fields_of(type(self))


@functools.cache
def _fields_of(serializer_class: type[serializers.Serializer]) -> BindingDict:
    return serializers.Serializer.fields.func(serializer_class())


class ReferralCreateApi(APIView):
    """POST: send a referral. Requires an Idempotency-Key header."""

    class InputSerializer(_FieldsBuiltOnce):
        service = serializers.IntegerField(min_value=1)
        incident_reference = serializers.CharField(max_length=40)
        urgency = serializers.ChoiceField(choices=Urgency.choices)
        patient = PatientSerializer()
        clinical = ClinicalSerializer()
        consent = ConsentSerializer()

    OutputSerializer = ReferralDetailSerializer

    @extend_schema(
        operation_id="referrals_create",
        request=InputSerializer,
        responses={201: ReferralDetailSerializer},
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)
        ],
    )
    def post(self, request):
        if not permissions.may_send_referrals(request.user):
            raise PermissionDenied("Your role may not send referrals.")
        key = check_key(request.headers.get("Idempotency-Key"))
        data = ReferralCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def create() -> tuple[int, dict]:
            referral = services.referral_create(user=request.user, data=data.validated_data)
            # ReferralDetailSerializer's shape, built without its fields (see api_output.py).
            body = referral_detail(referral, user=request.user)
            return status.HTTP_201_CREATED, body

        code, body = idempotent_response(
            user=request.user, key=key, body=request.data, create=create
        )
        return Response(body, status=code)


class ReferralListApi(APIView):
    """GET: referrals the caller may see, newest first; filters status, service, since."""

    OutputSerializer = ReferralSummarySerializer

    @extend_schema(
        operation_id="referrals_list",
        parameters=[
            OpenApiParameter("status", str, many=True),
            OpenApiParameter("service", int),
            OpenApiParameter("since", str, description="ISO 8601 date-time"),
        ],
        responses=inline_serializer(
            "ReferralPage",
            fields={
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": ReferralSummarySerializer(many=True),
            },
        ),
    )
    def get(self, request):
        if not permissions.can_list_referrals(request.user):
            raise PermissionDenied("Your role may not list referrals.")
        referrals = selectors.referral_list(user=request.user, filters=request.query_params)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(referrals, request, view=self)
        data = ReferralSummarySerializer(page, many=True, context={"user": request.user}).data
        return paginator.get_paginated_response(data)


class ReferralCollectionApi(ReferralCreateApi, ReferralListApi):
    """/referrals/: GET is ReferralListApi, POST is ReferralCreateApi (one URL, two views)."""


class ReferralDetailApi(APIView):
    """GET: one referral with its patient details; every read is recorded."""

    OutputSerializer = ReferralDetailSerializer

    @extend_schema(responses=ReferralDetailSerializer)
    def get(self, request, referral_id):
        referral = services.referral_read(
            request=request, referral_id=referral_id, channel=PatientAccess.Channel.API
        )
        # Patient details: never kept by a browser, proxy or shared cache.
        return Response(
            self.OutputSerializer(referral, context={"user": request.user}).data,
            headers={"Cache-Control": NO_STORE},
        )


class ReferralEventListApi(APIView):
    """GET: the referral's transitions, oldest first."""

    OutputSerializer = ReferralEventSerializer

    @extend_schema(responses=ReferralEventSerializer(many=True))
    def get(self, request, referral_id):
        # Decline notes, cancel reasons and outcomes are free text about the patient.
        referral = services.referral_read(
            request=request,
            referral_id=referral_id,
            channel=PatientAccess.Channel.API,
            resource=PatientAccess.Resource.EVENTS,
        )
        events = selectors.referral_events(referral=referral)
        return Response(
            self.OutputSerializer(events, many=True).data, headers={"Cache-Control": NO_STORE}
        )
