"""Directory API: tokens, who am I, categories, services, search, capacity.

One APIView per operation; input is validated by a nested InputSerializer, output
shaped by a nested OutputSerializer; the work happens in services.py / selectors.py.
"""

from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError, login_locked_out
from config.pagination import PageNumberPagination
from directory import permissions
from directory.models import Capacity, Category, Service
from directory.search import (
    search_query_from_params,
    service_search,
    service_summary,
)
from directory.selectors import service_get, service_list
from directory.services import (
    CAPACITY_MAX_MINUTES,
    CAPACITY_MAX_SLOTS,
    CAPACITY_MIN_MINUTES,
    capacity_set,
)
from directory.tokens import token_create, tokens_revoke_all


class TokenApi(APIView):
    """POST: exchange username and password for a device token. DELETE: revoke this token."""

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expiry = serializers.DateTimeField()

    def _is_login(self) -> bool:
        # The schema generator builds this view without a request.
        request = getattr(self, "request", None)
        return request is not None and request.method == "POST"

    def get_permissions(self):
        return [AllowAny()] if self._is_login() else super().get_permissions()

    def get_authenticators(self):
        # Logging in must not require (or trip over) an existing session's CSRF check.
        return [] if self._is_login() else super().get_authenticators()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, so django-axes counts failures and locks out as on /login/.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            return login_locked_out(request._request)
        if user is None or not user.is_active:
            raise DomainError(
                "Username or password is wrong.", code="invalid_credentials", status_code=401
            )
        instance, token = token_create(user=user)
        return Response(
            self.OutputSerializer({"token": token, "expiry": instance.expiry}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not isinstance(request.auth, AuthToken):
            raise DomainError(
                "Only a token can be revoked; send it in the Authorization header.",
                code="no_token",
            )
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeAllApi(APIView):
    """DELETE: revoke every token of the caller: signs out every device (a lost phone)."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "role": serializers.CharField(),
                "organisation": inline_serializer(
                    "MeOrganisation",
                    {"id": serializers.IntegerField(), "name": serializers.CharField()},
                    allow_null=True,
                ),
            },
        )
    )
    def get(self, request):
        user = request.user
        organisation = user.organisation
        return Response(
            {
                "username": user.username,
                "role": user.role,
                "organisation": (
                    {"id": organisation.id, "name": organisation.name} if organisation else None
                ),
            }
        )


class CategoryListApi(APIView):
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Category
            fields = ["code", "name", "description"]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(self.OutputSerializer(Category.objects.all(), many=True).data)


# --- services (H1) -----------------------------------------------------------------------


def _service_detail(service: Service) -> dict:
    """A service as staff read it through the API (professional details included: the API
    is for authenticated staff only and never feeds the public)."""
    body = service_summary(service, timezone.now())
    body.pop("distance_km")
    body.update(
        {
            "description": service.description,
            "active": service.active,
            "referral_roles": service.referral_roles,
            "bank_holiday_hours": service.bank_holiday_hours,
            "opening_hours": [
                {
                    "weekday": span.weekday,
                    "opens": span.opens.strftime("%H:%M"),
                    "closes": span.closes.strftime("%H:%M"),
                }
                for span in service.opening_spans.all()
            ],
        }
    )
    return body


_SERVICE_SCHEMA = inline_serializer(
    "Service",
    {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "public_name": serializers.CharField(),
        "organisation": inline_serializer(
            "ServiceOrganisation",
            {"id": serializers.IntegerField(), "name": serializers.CharField()},
        ),
        "categories": serializers.ListField(child=serializers.CharField()),
        "open_now": serializers.BooleanField(),
        "next_change": serializers.DateTimeField(allow_null=True),
        "opens_at": serializers.DateTimeField(allow_null=True),
        "opens_in_minutes": serializers.IntegerField(allow_null=True),
        "capacity": inline_serializer(
            "ServiceCapacity",
            {
                "status": serializers.ChoiceField(choices=Capacity.choices),
                "slots": serializers.IntegerField(allow_null=True),
                "updated_at": serializers.DateTimeField(allow_null=True),
                "expires_at": serializers.DateTimeField(allow_null=True),
            },
        ),
        "location": inline_serializer(
            "ServiceLocation",
            {
                "address": serializers.CharField(),
                "postcode": serializers.CharField(),
                "lat": serializers.FloatField(),
                "lon": serializers.FloatField(),
                "borough": serializers.CharField(),
                "ics": serializers.CharField(),
            },
        ),
        "phone": serializers.CharField(),
        "professional_phone": serializers.CharField(),
        "referral_instructions": serializers.CharField(),
        "eligibility": serializers.DictField(),
    },
)


class ServiceListApi(APIView):
    class Pagination(PageNumberPagination):
        page_size = 50
        page_size_query_param = "page_size"
        max_page_size = 200

    class FilterSerializer(serializers.Serializer):
        category = serializers.CharField(required=False, help_text="Category code")
        borough = serializers.CharField(required=False, help_text="GSS code or slug")
        ics = serializers.CharField(required=False)
        organisation = serializers.IntegerField(required=False)
        q = serializers.CharField(required=False, help_text="Words in the name or description")

    @extend_schema(
        parameters=[FilterSerializer],
        responses=inline_serializer(
            "ServicePage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": _SERVICE_SCHEMA.__class__(many=True),
            },
        ),
    )
    def get(self, request):
        services = service_list(user=request.user, filters=request.query_params)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(services, request, view=self)
        return paginator.get_paginated_response([_service_detail(s) for s in page])


class ServiceDetailApi(APIView):
    @extend_schema(responses=_SERVICE_SCHEMA)
    def get(self, request, service_id: int):
        service = service_get(service_id=service_id, user=request.user)
        if service is None:
            raise DomainError("No such service.", code="not_found", status_code=404)
        return Response(_service_detail(service))


class ServiceSearchApi(APIView):
    """Services near a point that can take this patient now, best first."""

    permission_classes = [permissions.RolePermission.of(permissions.can_search)]

    @extend_schema(
        parameters=[
            OpenApiParameter("lat", float, description="Latitude (with lon), or give postcode"),
            OpenApiParameter("lon", float),
            OpenApiParameter("postcode", str),
            OpenApiParameter("radius_km", float, description="Default 10, more than 0, max 100"),
            OpenApiParameter("category", str, many=True, description="Category code, repeatable"),
            OpenApiParameter("age", int, description="0 to 129"),
            OpenApiParameter("sex", str, enum=["female", "male", "other", "unknown"]),
            OpenApiParameter("at", str, description="ISO 8601; default now"),
            OpenApiParameter(
                "within",
                str,
                enum=["now", "1h", "4h", "24h"],
                description="How soon the patient must be seen (default now): services "
                "opening within it, for long enough, are listed after the open ones with "
                "opens_at and opens_in_minutes",
            ),
            OpenApiParameter(
                "open",
                bool,
                description="Only services that can take the patient in time (open now, "
                "opening within `within`, or taking referrals when closed)",
            ),
            OpenApiParameter("limit", int, description="Default 20, max 100"),
            OpenApiParameter("explain", bool, description="Also list who was left out and why"),
        ],
        responses=inline_serializer(
            "SearchAnswer",
            {
                "origin": serializers.DictField(),
                "count": serializers.IntegerField(),
                "results": _SERVICE_SCHEMA.__class__(many=True),
                "excluded": serializers.ListField(
                    child=serializers.DictField(),
                    required=False,
                    help_text="Only with explain=true: who was left out and why",
                ),
                "fallback": _SERVICE_SCHEMA.__class__(many=True),
            },
        ),
    )
    def get(self, request):
        query = search_query_from_params(request.query_params)
        return Response(service_search(query=query, logged_for=request.user).as_dict())


class ServiceCapacityApi(APIView):
    """PUT: a partner of the owning organisation (or an operator) reports capacity."""

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[Capacity.GREEN, Capacity.AMBER, Capacity.RED])
        slots = serializers.IntegerField(
            min_value=0, max_value=CAPACITY_MAX_SLOTS, required=False, allow_null=True
        )
        expires_in_minutes = serializers.IntegerField(
            min_value=CAPACITY_MIN_MINUTES, max_value=CAPACITY_MAX_MINUTES, required=False
        )

    @extend_schema(request=InputSerializer, responses=_SERVICE_SCHEMA)
    def put(self, request, service_id: int):
        service = service_get(service_id=service_id, user=request.user)
        if service is None:
            raise DomainError("No such service.", code="not_found", status_code=404)
        if not permissions.can_set_capacity(request.user, service):
            raise DomainError(
                "You may not set this service's capacity.",
                code="permission_denied",
                status_code=403,
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        capacity_set(service=service, user=request.user, **data.validated_data)
        return Response(_service_detail(service))
