"""Endpoints API: where an organisation is told, test events, deliveries and their replay.

One APIView per route; input validated by a nested InputSerializer, output shaped by a nested
OutputSerializer; the work happens in integrations/endpoints.py and integrations/outbox.py.
Who may do what: directory.permissions (endpoints_visible_to, can_manage_endpoints).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from config.pagination import PageNumberPagination
from directory.models import Organisation
from directory.permissions import RolePermission, can_manage_endpoints
from integrations import endpoints, outbox
from integrations.models import Delivery, Endpoint

ManagesEndpoints = RolePermission.of(can_manage_endpoints)


class EndpointOutputSerializer(serializers.ModelSerializer):
    """An endpoint as its owners see it. Never the secret: that is shown once, on creation."""

    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Endpoint
        ref_name = "Endpoint"
        fields = [
            "id",
            "organisation",
            "organisation_name",
            "kind",
            "url",
            "email",
            "description",
            "full_message",
            "active",
            "disabled_reason",
            "created_at",
        ]


class AttemptOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DeliveryAttempt"

    at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class DeliveryOutputSerializer(serializers.ModelSerializer):
    attempts = AttemptOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        ref_name = "Delivery"
        fields = [
            "id",
            "endpoint",
            "event_type",
            "message_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_error",
            "created_at",
            "delivered_at",
            "failed_at",
            "attempts",
        ]


class EndpointListApi(APIView):
    """GET: the endpoints of the caller's organisation (all, for operators). POST: register one."""

    permission_classes = [ManagesEndpoints]
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EndpointCreateInput"

        kind = serializers.ChoiceField(choices=Endpoint.Kind.choices)
        url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
        description = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default=""
        )
        organisation = serializers.PrimaryKeyRelatedField(
            queryset=Organisation.objects.all(), required=False
        )
        # FHIR only: the full BaRS-style message with the patient (https, audited).
        full_message = serializers.BooleanField(required=False, default=False)

    class CreatedSerializer(EndpointOutputSerializer):
        # The one place the signing secret is ever shown (webhook and FHIR endpoints sign).
        secret = serializers.SerializerMethodField()

        class Meta(EndpointOutputSerializer.Meta):
            ref_name = "EndpointCreated"
            fields = [*EndpointOutputSerializer.Meta.fields, "secret"]

        def get_secret(self, endpoint: Endpoint) -> str | None:
            return None if endpoint.kind == Endpoint.Kind.EMAIL else endpoint.secret

    @extend_schema(responses=EndpointOutputSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(endpoints.endpoint_list(user=request.user), request)
        return paginator.get_paginated_response(EndpointOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoints.endpoint_create(user=request.user, **data.validated_data)
        return Response(self.CreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(APIView):
    """GET, PATCH (url, email, description, active, full_message) and DELETE one endpoint."""

    permission_classes = [ManagesEndpoints]
    FIXED_FIELDS = ("kind", "organisation", "secret")

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EndpointChangeInput"

        url = serializers.CharField(max_length=500, required=False, allow_blank=True)
        email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        active = serializers.BooleanField(required=False)
        full_message = serializers.BooleanField(required=False)

    @extend_schema(responses=EndpointOutputSerializer)
    def get(self, request, endpoint_id: int):
        endpoint = endpoints.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(request=InputSerializer, responses=EndpointOutputSerializer)
    def patch(self, request, endpoint_id: int):
        endpoint = endpoints.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        fixed = [name for name in self.FIXED_FIELDS if name in request.data]
        if fixed:
            raise DomainError(
                f"{fixed[0]} cannot be changed; register a new endpoint instead.",
                code="invalid",
                fields={name: ["Cannot be changed."] for name in fixed},
            )
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = endpoints.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, endpoint_id: int):
        endpoint = endpoints.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        endpoints.endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointTestApi(APIView):
    """POST: queue a test event ("endpoint.test") to the endpoint; 202 with the delivery id."""

    permission_classes = [ManagesEndpoints]

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "EndpointTestQueued",
                {"delivery_id": serializers.IntegerField(), "status": serializers.CharField()},
            )
        },
    )
    def post(self, request, endpoint_id: int):
        endpoint = endpoints.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        delivery = endpoints.endpoint_test(endpoint=endpoint)
        return Response(
            {"delivery_id": delivery.pk, "status": delivery.status},
            status=status.HTTP_202_ACCEPTED,
        )


class EndpointDeliveryListApi(APIView):
    """GET: the endpoint's recent deliveries, newest first, each with its attempts."""

    permission_classes = [ManagesEndpoints]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=Delivery.Status.values, required=False),
            OpenApiParameter("page", int, required=False),
        ],
        responses=DeliveryOutputSerializer(many=True),
    )
    def get(self, request, endpoint_id: int):
        endpoint = endpoints.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        wanted = request.query_params.get("status") or None
        if wanted and wanted not in Delivery.Status.values:
            raise DomainError(
                "Unknown delivery status.",
                code="invalid",
                fields={"status": [f"Must be one of {', '.join(Delivery.Status.values)}."]},
            )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            endpoints.endpoint_deliveries(endpoint=endpoint, status=wanted), request
        )
        return paginator.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)


class DeliveryReplayApi(APIView):
    """POST: send a failed or cancelled delivery again; 409 if it is pending or delivered."""

    permission_classes = [ManagesEndpoints]

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request, delivery_id: int):
        delivery = endpoints.delivery_get(user=request.user, delivery_id=delivery_id)
        delivery = outbox.delivery_replay(delivery_id=delivery.pk)
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
