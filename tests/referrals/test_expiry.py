"""Referrals nobody acknowledges or answers in time expire, and the slot comes back."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from directory.models import Service
from referrals import services
from referrals.models import Referral, ReferralEvent, Status
from tests.referrals.factories import referral_in


def _later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def test_it_expires_a_referral_nobody_acknowledged_in_time(crew, partner, service):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    assert services.referrals_expire_overdue(now=_later(29)) == 0
    assert services.referrals_expire_overdue(now=_later(31)) == 1
    referral.refresh_from_db()
    assert referral.status == Status.EXPIRED
    assert referral.closed_at is not None
    event = ReferralEvent.objects.filter(referral=referral).last()
    assert (event.from_status, event.to_status, event.actor) == ("sent", "expired", None)
    assert event.reason_code == "not_acknowledged"


def test_it_expires_an_acknowledged_referral_nobody_answered_in_time(crew, partner, service):
    referral = referral_in(Status.ACKNOWLEDGED, crew=crew, partner=partner, service=service)
    assert services.referrals_expire_overdue(now=_later(60)) == 0
    assert services.referrals_expire_overdue(now=_later(121)) == 1
    referral.refresh_from_db()
    assert referral.status == Status.EXPIRED
    assert ReferralEvent.objects.filter(referral=referral).last().reason_code == "not_answered"


def test_it_uses_the_services_own_minutes(crew, partner, service):
    Service.objects.filter(pk=service.pk).update(acknowledge_within_minutes=5)
    service.refresh_from_db()
    referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    assert services.referrals_expire_overdue(now=_later(6)) == 1


def test_it_leaves_accepted_and_closed_referrals_alone(crew, partner, service):
    for status in (Status.ACCEPTED, Status.DECLINED, Status.COMPLETED, Status.CANCELLED):
        referral_in(status, crew=crew, partner=partner, service=service)
    assert services.referrals_expire_overdue(now=_later(24 * 60)) == 0


def test_it_gives_the_slot_back_on_expiry(crew, partner, service):
    Service.objects.filter(pk=service.pk).update(capacity_slots=1)
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    assert Service.objects.get(pk=service.pk).capacity_slots == 0
    services.referrals_expire_overdue(now=_later(31))
    assert Service.objects.get(pk=service.pk).capacity_slots == 1
    assert not Referral.objects.get(pk=referral.pk).holds_slot


def test_the_command_expires_overdue_referrals(crew, partner, service, capsys):
    referral = referral_in(Status.SENT, crew=crew, partner=partner, service=service)
    Referral.objects.filter(pk=referral.pk).update(
        acknowledge_due_at=timezone.now() - timedelta(minutes=1)
    )
    call_command("expire_referrals")
    assert Referral.objects.get(pk=referral.pk).status == Status.EXPIRED
    assert "Expired 1 referral" in capsys.readouterr().out
