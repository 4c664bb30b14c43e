"""Directory API: tokens, who am I, categories, services, search, capacity.

One APIView per operation; input is validated by a nested InputSerializer, output
shaped by a nested OutputSerializer; the work happens in services.py / selectors.py.
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from directory.models import Category


class TokenApi(APIView):
    """POST: exchange username and password for a device token. DELETE: revoke this token."""

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expiry = serializers.DateTimeField()

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else super().get_permissions()

    def get_authenticators(self):
        # Logging in must not require (or trip over) an existing session's CSRF check.
        if self.request.method == "POST":
            return []
        return super().get_authenticators()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise DomainError(
                "Username or password is wrong.", code="invalid_credentials", status_code=401
            )
        instance, token = AuthToken.objects.create(user, knox_settings.TOKEN_TTL)
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
