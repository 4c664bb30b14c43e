"""Email endpoints get the event and a link, never the patient."""

import pytest
from django.core import mail

from integrations import services
from integrations.models import Delivery, Endpoint
from tests.integrations.conftest import PATIENT_DETAILS, make_endpoint, make_referral


@pytest.fixture
def email_endpoint(provider):
    return make_endpoint(provider, kind=Endpoint.Kind.EMAIL, email="desk@alpha.test")


def test_it_emails_the_event_with_a_link_and_no_patient_details(crew, service, email_endpoint):
    referral = make_referral(crew, service)
    sent = services.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert sent.status == Delivery.Status.DELIVERED

    (message,) = mail.outbox
    assert message.to == ["desk@alpha.test"]
    assert "referral.created" in message.subject
    assert "sent" in message.subject
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
    sent = services.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert sent.status == Delivery.Status.PENDING
    assert sent.last_error.startswith("email error")
