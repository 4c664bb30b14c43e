"""Idempotency-Key: a retried POST gets the first answer, never a second referral."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import Conflict
from referrals.idempotency import idempotency_keys_purge, idempotent_response, request_hash
from referrals.models import IdempotencyKey, Referral
from tests.referrals.factories import referral_body

URL = "/api/v1/referrals/"


def post(client, body, key):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_it_replays_the_first_answer_for_the_same_key_and_body(api_as, crew, service):
    first = post(api_as(crew), referral_body(service), "key-1")
    again = post(api_as(crew), referral_body(service), "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Referral.objects.count() == 1


def test_it_hashes_the_body_canonically(api_as, crew, service):
    body = referral_body(service)
    reordered = dict(reversed(list(body.items())))
    assert request_hash(body) == request_hash(reordered)
    post(api_as(crew), body, "key-1")
    assert post(api_as(crew), reordered, "key-1").status_code == 201
    assert Referral.objects.count() == 1


def test_it_refuses_the_same_key_with_another_body(api_as, crew, service):
    post(api_as(crew), referral_body(service), "key-1")
    other = post(api_as(crew), referral_body(service, incident_reference="CAD-999"), "key-1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Referral.objects.count() == 1


def test_it_keeps_keys_apart_per_user(api_as, crew, other_crew, service):
    post(api_as(crew), referral_body(service), "key-1")
    assert post(api_as(other_crew), referral_body(service), "key-1").status_code == 201
    assert Referral.objects.count() == 2


def test_it_answers_409_while_the_first_request_is_in_flight(crew):
    seen = {}

    def first():
        # A retry with the same key arrives while the first request is still working.
        with pytest.raises(Conflict) as refused:
            idempotent_response(
                user=crew, key="k", body={"a": 1}, create=lambda: pytest.fail("ran twice")
            )
        seen["code"] = refused.value.code
        return 201, {"first": True}

    assert idempotent_response(user=crew, key="k", body={"a": 1}, create=first) == (
        201,
        {"first": True},
    )
    assert seen["code"] == "request_in_flight"


def test_it_forgets_a_key_whose_request_was_refused(api_as, crew, service):
    from directory.models import Service

    Service.objects.filter(pk=service.pk).update(capacity_slots=0)
    assert post(api_as(crew), referral_body(service), "key-1").status_code == 409
    assert not IdempotencyKey.objects.exists()
    Service.objects.filter(pk=service.pk).update(capacity_slots=1)
    assert post(api_as(crew), referral_body(service), "key-1").status_code == 201


def test_it_lets_a_retry_take_over_a_key_whose_request_died(crew):
    digest = request_hash({"a": 1})
    row = IdempotencyKey.objects.create(user=crew, key="k", request_hash=digest)
    IdempotencyKey.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    answer = idempotent_response(user=crew, key="k", body={"a": 1}, create=lambda: (201, {"x": 1}))
    assert answer == (201, {"x": 1})


def test_it_keeps_keys_for_a_day_and_then_purges_them(crew):
    idempotent_response(user=crew, key="k", body={}, create=lambda: (201, {}))
    assert idempotency_keys_purge(now=timezone.now() + timedelta(hours=23)) == 0
    assert idempotency_keys_purge(now=timezone.now() + timedelta(hours=25)) == 1
