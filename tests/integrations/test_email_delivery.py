"""Email endpoints get the event and a link, never the patient."""

import pytest
from django.core import mail

from directory.models import Role
from integrations import endpoints, sending
from integrations.models import Delivery, Endpoint
from tests.factories import UserFactory
from tests.integrations.conftest import PATIENT_DETAILS, answer, make_endpoint, make_referral


@pytest.fixture
def email_endpoint(provider):
    return make_endpoint(provider, kind=Endpoint.Kind.EMAIL, email="desk@alpha.test")


def test_it_emails_the_event_with_a_link_and_no_patient_details(crew, service, email_endpoint):
    referral = make_referral(crew, service)
    sent = sending.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert sent.status == Delivery.Status.DELIVERED

    (message,) = mail.outbox
    assert message.to == ["desk@alpha.test"]
    assert message.subject == "New referral for Alpha Falls Response: within 1 hour"
    assert f"https://frontdoor.test/api/v1/referrals/{referral.pk}/" in message.body
    assert f"https://frontdoor.test/inbox/{referral.pk}/" in message.body
    for detail in PATIENT_DETAILS:
        assert detail not in message.subject
        assert detail not in message.body


def test_it_retries_when_the_mail_server_fails(crew, service, email_endpoint, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens on discard
    settings.EMAIL_TIMEOUT = 2
    make_referral(crew, service)
    sent = sending.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert sent.status == Delivery.Status.PENDING
    assert sent.last_error.startswith("email error")


def test_it_says_in_the_subject_what_happened_to_the_crews_referral(
    crew, service, ambulance_trust, provider
):
    make_endpoint(ambulance_trust, kind=Endpoint.Kind.EMAIL, email="control@las.test")
    referral = make_referral(crew, service)
    partner = UserFactory(organisation=provider, role=Role.PARTNER)
    answer(referral, partner, "decline", reason_code="no_capacity", note="Full today")
    sending.deliveries_send_due()

    (message,) = [m for m in mail.outbox if m.to == ["control@las.test"]]
    assert message.subject == "Referral to Alpha Falls Response declined"
    assert f"https://frontdoor.test/referrals/{referral.pk}/" in message.body
    assert "Full today" not in message.body


def test_it_titles_a_test_message_for_people(email_endpoint):
    delivery = endpoints.endpoint_test(endpoint=email_endpoint)
    sending.delivery_send(delivery_id=delivery.pk)
    (message,) = mail.outbox
    assert message.subject == "Test message from frontdoor: your email notifications work"
