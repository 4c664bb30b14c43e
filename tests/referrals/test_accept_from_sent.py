"""A partner may accept a referral straight from sent: the acknowledgement is recorded as
its own event just before the acceptance, and the crew hears of the acceptance once."""

from integrations.models import Delivery, Endpoint
from referrals.models import Referral

URL = "/api/v1/referrals/"


def test_it_accepts_from_sent_recording_the_acknowledgement_first(api_as, crew, partner, service):
    Endpoint.objects.create(
        organisation=crew.organisation, kind=Endpoint.Kind.EMAIL, email="crew@example.org"
    )
    from tests.referrals.factories import referral_create

    referral = referral_create(crew, service)

    answer = api_as(partner).post(
        f"{URL}{referral.pk}/accept/", {"note": "On our way"}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json()["status"] == "accepted"
    events = api_as(crew).get(f"{URL}{referral.pk}/events/").json()
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("", "sent"),
        ("sent", "acknowledged"),
        ("acknowledged", "accepted"),
    ]
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.acknowledged_at is not None
    assert stored.acknowledged_at <= stored.answered_at
    assert list(
        Delivery.objects.filter(endpoint__organisation=crew.organisation).values_list(
            "event_type", flat=True
        )
    ) == ["referral.accepted"]
