"""Referrals API: the state machine's actions (acknowledge, accept, decline, complete,
cancel), one APIView each. Each answers with the referral without patient details, and
every change goes through referral_transition.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from referrals import services
from referrals.api import ReferralSummarySerializer
from referrals.models import DeclineReason


class _ReferralActionApi(APIView):
    """One action of the state machine; answers with the referral (no patient details)."""

    action = ""

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    OutputSerializer = ReferralSummarySerializer

    def arguments(self, data: dict) -> dict:
        """Map the validated body onto referral_transition's keyword arguments."""
        return {"note": data.get("note", "")}

    def act(self, request, referral_id) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_transition(
            referral_id=referral_id,
            user=request.user,
            action=self.action,
            **self.arguments(data.validated_data),
        )
        return Response(self.OutputSerializer(referral, context={"user": request.user}).data)


class ReferralAcknowledgeApi(_ReferralActionApi):
    action = "acknowledge"

    @extend_schema(request=_ReferralActionApi.InputSerializer, responses=ReferralSummarySerializer)
    def post(self, request, referral_id):
        return self.act(request, referral_id)


class ReferralAcceptApi(_ReferralActionApi):
    action = "accept"

    @extend_schema(request=_ReferralActionApi.InputSerializer, responses=ReferralSummarySerializer)
    def post(self, request, referral_id):
        return self.act(request, referral_id)


class ReferralDeclineApi(_ReferralActionApi):
    action = "decline"

    class InputSerializer(serializers.Serializer):
        reason_code = serializers.ChoiceField(choices=DeclineReason.choices)
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def arguments(self, data: dict) -> dict:
        return {"reason_code": data["reason_code"], "note": data.get("note", "")}

    @extend_schema(request=InputSerializer, responses=ReferralSummarySerializer)
    def post(self, request, referral_id):
        return self.act(request, referral_id)


class ReferralCompleteApi(_ReferralActionApi):
    action = "complete"

    class InputSerializer(serializers.Serializer):
        outcome = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def arguments(self, data: dict) -> dict:
        return {"outcome": data.get("outcome", "")}

    @extend_schema(request=InputSerializer, responses=ReferralSummarySerializer)
    def post(self, request, referral_id):
        return self.act(request, referral_id)


class ReferralCancelApi(_ReferralActionApi):
    action = "cancel"

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    def arguments(self, data: dict) -> dict:
        return {"note": data["reason"]}

    @extend_schema(request=InputSerializer, responses=ReferralSummarySerializer)
    def post(self, request, referral_id):
        return self.act(request, referral_id)
