"""Webhook signing secrets are encrypted in the database; signatures still verify."""

import importlib

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from standardwebhooks import Webhook

from integrations import sending
from integrations.models import Delivery, Endpoint
from tests.integrations.conftest import make_referral
from tests.integrations.receiver import Receiver

migration = importlib.import_module("integrations.migrations.0005_matrix_encrypt_endpoint_secrets")


def stored_secret(endpoint) -> str:
    """The column as a database dump would show it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_endpoint WHERE id = %s", [endpoint.pk])
        return cursor.fetchone()[0]


def test_a_database_dump_does_not_show_the_secret(api_as, partner):
    answer = api_as(partner).post(
        "/api/v1/endpoints/", {"kind": "webhook", "url": "https://hooks.example/x"}, format="json"
    )
    assert answer.status_code == 201
    secret = answer.json()["secret"]
    endpoint = Endpoint.objects.get(pk=answer.json()["id"])

    dumped = stored_secret(endpoint)
    assert secret.startswith("whsec_")
    assert secret not in dumped
    assert secret.removeprefix("whsec_") not in dumped
    assert endpoint.secret == secret


def test_the_receiver_verifies_with_the_secret_it_was_given(crew, provider, service):
    receiver = Receiver()
    try:
        endpoint = Endpoint.objects.create(
            organisation=provider, kind=Endpoint.Kind.WEBHOOK, url=receiver.url
        )
        given = endpoint.secret
        make_referral(crew, service)
        delivery = Delivery.objects.get(endpoint=endpoint)

        sent = sending.delivery_send(delivery_id=delivery.pk)

        assert sent.status == Delivery.Status.DELIVERED
        (request,) = receiver.received
        assert Webhook(given).verify(request.body, request.headers)["type"] == "referral.created"
    finally:
        receiver.close()


def test_the_migration_encrypts_a_secret_stored_plain(provider):
    endpoint = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url="https://hooks.example/y"
    )
    plain = endpoint.secret
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_endpoint SET secret = %s WHERE id = %s", [plain, endpoint.pk]
        )
    assert stored_secret(endpoint) == plain
    assert Endpoint.objects.get(pk=endpoint.pk).secret == plain  # a legacy row still reads

    migration.encrypt_existing(apps, None)

    assert plain not in stored_secret(endpoint)
    assert Endpoint.objects.get(pk=endpoint.pk).secret == plain


def test_a_key_that_is_not_the_one_used_says_which_setting(provider, settings):
    endpoint = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url="https://hooks.example/z"
    )
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        Endpoint.objects.get(pk=endpoint.pk)


def test_a_set_key_encrypts_and_reads_back(provider, settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    endpoint = Endpoint.objects.create(
        organisation=provider, kind=Endpoint.Kind.WEBHOOK, url="https://hooks.example/w"
    )

    assert Endpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret
    assert endpoint.secret not in stored_secret(endpoint)
