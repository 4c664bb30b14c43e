"""Demo activity: a few hundred fictional referrals and searches over the last 12 weeks.

Only for the embedded demo (seed_demo calls seed_activity at its end) so that the reports
page has something to show. Every person is made up: names from an obviously fictional
list, NHS numbers from the 999 test range (valid Modulus 11), phone numbers from Ofcom's
drama range, postcodes in the ZZ99 pseudo area. Rows are written in bulk and back-dated,
not through the live state machine: no deliveries, no emails, nothing leaves the machine.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from directory.models import Borough, Organisation, SearchLog, Service
from referrals.models import (
    AgeBand,
    DeclineReason,
    Referral,
    ReferralEvent,
    Status,
    Urgency,
)

DEMO_PREFIX = "DEMO-"
WEEKS = 12
GIVEN_NAMES = ["Testy", "Demo", "Sample", "Example", "Dummy", "Placeholder", "Mock", "Fictio"]
FAMILY_NAMES = ["McTestface", "Examplesson", "Specimen", "Madeup-Person", "Notreal", "Fakename"]
AGE_BANDS = [
    (AgeBand.CHILD, 1, 17, 1),  # no infants: a DOB never falls inside the reporting weeks
    (AgeBand.ADULT, 18, 64, 3),
    (AgeBand.OLDER, 65, 79, 3),
    (AgeBand.ELDERLY, 80, 99, 4),
]


def fictional_nhs_number(rng: random.Random) -> str:
    """A 999-range NHS number with a valid Modulus 11 check digit (never a real patient)."""
    while True:
        digits = [9, 9, 9] + [rng.randrange(10) for _ in range(6)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:  # 10 means no valid number with these digits
            return "".join(map(str, digits)) + str(check)


def fictional_referral(
    *,
    rng: random.Random,
    service: Service,
    referring_organisation: Organisation,
    created_at: datetime,
    status: str = Status.SENT,
    category=None,
    acknowledged_after: timedelta | None = None,
    answered_after: timedelta | None = None,
    closed_after: timedelta | None = None,
    decline_reason: str = "",
    patient_borough: Borough | None = None,
    incident_reference: str | None = None,
) -> Referral:
    """An unsaved referral with a fictional patient, for demo data and report tests."""
    band, low, high, _ = rng.choice(AGE_BANDS)
    age = rng.randint(low, high)
    born = (created_at - timedelta(days=365 * age + rng.randrange(365))).date()
    category = category or service.categories.order_by("pk").first()
    return Referral(
        service=service,
        referring_organisation=referring_organisation,
        incident_reference=incident_reference or f"{DEMO_PREFIX}{rng.randrange(10**8):08d}",
        urgency=rng.choice(Urgency.values),
        status=status,
        nhs_number=fictional_nhs_number(rng),
        given_name=rng.choice(GIVEN_NAMES),
        family_name=rng.choice(FAMILY_NAMES),
        date_of_birth=born,
        sex=rng.choice(["female", "male"]),
        phone=f"07700 900{rng.randrange(1000):03d}",
        address=f"{rng.randint(1, 200)} Fictional Road, London",
        postcode=f"ZZ99 {rng.randint(1, 9)}Z{rng.choice('ABDEFGHJ')}",
        category=category,
        presenting_complaint="Fictional demo complaint",
        summary="Fictional demo summary for the reports page.",
        consent_given=True,
        consent_recorded_at=created_at,
        age_band=band,
        patient_borough=patient_borough,
        decline_reason=decline_reason,
        decline_note="Fictional demo note" if decline_reason else "",
        created_at=created_at,
        acknowledged_at=created_at + acknowledged_after if acknowledged_after else None,
        answered_at=created_at + answered_after if answered_after else None,
        closed_at=created_at + closed_after if closed_after else None,
        acknowledge_due_at=created_at + timedelta(minutes=service.acknowledge_within_minutes),
        answer_due_at=created_at + timedelta(minutes=service.answer_within_minutes),
    )


def save_backdated(referrals: list[Referral]) -> list[Referral]:
    """bulk_create, then put back the created_at that auto_now_add overwrote."""
    wanted = [referral.created_at for referral in referrals]
    Referral.objects.bulk_create(referrals, batch_size=500)
    for referral, created_at in zip(referrals, wanted, strict=True):
        referral.created_at = created_at
    Referral.objects.bulk_update(referrals, ["created_at"], batch_size=500)
    return referrals


def events_for(referral: Referral) -> list[ReferralEvent]:
    """The transitions a referral in its state went through, at its recorded times."""
    steps: list[tuple[str, str, datetime, str]] = [("", Status.SENT, referral.created_at, "")]
    current = Status.SENT
    if referral.acknowledged_at:
        steps.append((current, Status.ACKNOWLEDGED, referral.acknowledged_at, ""))
        current = Status.ACKNOWLEDGED
    if referral.answered_at:
        if referral.status == Status.DECLINED:
            answer, reason = Status.DECLINED, referral.decline_reason
        else:
            answer, reason = Status.ACCEPTED, ""
        steps.append((current, answer, referral.answered_at, reason))
        current = answer
    if referral.status in (Status.COMPLETED, Status.CANCELLED, Status.EXPIRED):
        steps.append((current, referral.status, referral.closed_at or timezone.now(), ""))
    return [
        ReferralEvent(
            referral=referral,
            from_status=from_status,
            to_status=to_status,
            reason_code=reason,
            actor_organisation=(
                referral.referring_organisation
                if to_status in (Status.SENT, Status.CANCELLED)
                else None
                if to_status == Status.EXPIRED
                else referral.service.organisation
            ),
            created_at=at,
        )
        for from_status, to_status, at, reason in steps
    ]


def save_events_backdated(events: list[ReferralEvent]) -> None:
    wanted = [event.created_at for event in events]
    ReferralEvent.objects.bulk_create(events, batch_size=1000)
    for event, created_at in zip(events, wanted, strict=True):
        event.created_at = created_at
    ReferralEvent.objects.bulk_update(events, ["created_at"], batch_size=1000)


def _minutes(rng: random.Random, median: float) -> timedelta:
    # Response times are skewed: most quick, a long tail.
    return timedelta(minutes=max(1.0, rng.lognormvariate(0, 0.8) * median))


def _plan(rng: random.Random, created_at: datetime, now: datetime) -> dict[str, Any]:
    """A plausible life for a referral made at created_at, as of now."""
    age = now - created_at
    ack = _minutes(rng, 12)
    answer = ack + _minutes(rng, 25)
    if age < timedelta(hours=2):
        return (
            {"status": Status.SENT}
            if age < ack
            else {"status": Status.ACKNOWLEDGED, "acknowledged_after": ack}
        )
    roll = rng.random()
    if roll < 0.08:
        return {"status": Status.EXPIRED, "closed_after": timedelta(minutes=30)}
    if roll < 0.16:
        return {"status": Status.CANCELLED, "acknowledged_after": ack, "closed_after": answer}
    if roll < 0.38:
        return {
            "status": Status.DECLINED,
            "acknowledged_after": ack,
            "answered_after": answer,
            "closed_after": answer,
            "decline_reason": rng.choice(
                [DeclineReason.NO_CAPACITY] * 3
                + [DeclineReason.NOT_ELIGIBLE] * 2
                + [DeclineReason.OUTSIDE_AREA, DeclineReason.CLINICALLY_INAPPROPRIATE]
            ),
        }
    done = answer + timedelta(hours=rng.uniform(2, 48))
    if done > age:
        return {"status": Status.ACCEPTED, "acknowledged_after": ack, "answered_after": answer}
    return {
        "status": Status.COMPLETED,
        "acknowledged_after": ack,
        "answered_after": answer,
        "closed_after": done,
    }


def _random_time(rng: random.Random, now: datetime) -> datetime:
    # Busier by day than by night, spread over the last WEEKS weeks.
    day = now - timedelta(days=rng.randrange(WEEKS * 7))
    hour = rng.choice([*range(8, 22), *range(8, 22), *range(0, 24)])
    at = day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    return min(at, now - timedelta(minutes=rng.randrange(1, 600)))


def seed_activity(
    *, stdout: TextIO | None = None, referrals: int = 400, searches: int = 500
) -> None:
    """Add demo referrals (with events) and searches, once: does nothing if they exist."""
    if Referral.objects.filter(incident_reference__startswith=DEMO_PREFIX).exists():
        if stdout:
            stdout.write("Demo activity already present.\n")
        return
    services = list(
        Service.objects.filter(active=True)
        .select_related("organisation", "location__borough")
        .prefetch_related("categories")
    )
    services = [service for service in services if service.categories.all()]
    referrer = (
        Organisation.objects.filter(kind=Organisation.Kind.AMBULANCE_TRUST).first()
        or Organisation.objects.first()
    )
    if not services or referrer is None:
        if stdout:
            stdout.write("No services to refer into: demo activity skipped.\n")
        return

    rng = random.Random(20250601)  # the same demo every time
    now = timezone.now()
    boroughs = list(Borough.objects.all())
    made: list[Referral] = []
    for _ in range(referrals):
        service = rng.choice(services)
        created_at = _random_time(rng, now)
        made.append(
            fictional_referral(
                rng=rng,
                service=service,
                referring_organisation=referrer,
                created_at=created_at,
                category=rng.choice(list(service.categories.all())),
                patient_borough=service.location.borough
                if rng.random() < 0.8
                else rng.choice(boroughs),
                **_plan(rng, created_at, now),
            )
        )

    by_ics: dict[tuple[str, str], int] = {}
    for service in services:
        for category in service.categories.all():
            key = (service.location.borough.ics, category.code)
            by_ics[key] = by_ics.get(key, 0) + 1
    codes = sorted({code for _, code in by_ics})
    logs = []
    for _ in range(searches):
        borough = rng.choice(boroughs)
        code = rng.choice(codes)
        available = by_ics.get((borough.ics, code), 0)
        # Nights, RED capacity and eligibility leave some searches with nothing open.
        found = 0 if rng.random() < 0.15 else rng.randint(0, available)
        logs.append(
            SearchLog(
                borough=borough,
                categories=[code],
                age_band=rng.choice([band for band, *_ in AGE_BANDS]),
                result_count=found,
                fallback_shown=found == 0,
                organisation=referrer,
                created_at=_random_time(rng, now),
            )
        )

    with transaction.atomic():
        save_backdated(made)
        save_events_backdated([event for referral in made for event in events_for(referral)])
        wanted = [log.created_at for log in logs]
        SearchLog.objects.bulk_create(logs, batch_size=500)
        for log, created_at in zip(logs, wanted, strict=True):
            log.created_at = created_at
        SearchLog.objects.bulk_update(logs, ["created_at"], batch_size=500)
    if stdout:
        stdout.write(f"Demo activity: {len(made)} referrals and {len(logs)} searches.\n")
