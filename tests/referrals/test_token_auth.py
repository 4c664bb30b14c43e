"""Referral create reads the caller's token in one query; knox's rules still hold."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from referrals.models import Referral
from tests.referrals.factories import referral_body

URL = "/api/v1/referrals/"


def post(token: str, body: dict, key: str = "key-1"):
    return APIClient().post(
        URL, body, format="json", HTTP_AUTHORIZATION=f"Token {token}", HTTP_IDEMPOTENCY_KEY=key
    )


def test_it_creates_a_referral_for_a_crew_token(crew, service):
    _, token = AuthToken.objects.create(crew, timedelta(hours=1))
    answer = post(token, referral_body(service))
    assert answer.status_code == 201
    assert answer.json()["referring_organisation"]["name"] == crew.organisation.name
    assert Referral.objects.get().referring_user == crew


def test_it_reads_the_token_user_and_organisation_in_one_query(crew, service):
    _, token = AuthToken.objects.create(crew, timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        assert post(token, referral_body(service)).status_code == 201
    token_reads = [q for q in queries.captured_queries if "knox_authtoken" in q["sql"]]
    organisation_reads = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "directory_organisation"')
    ]
    assert len(token_reads) == 1
    assert organisation_reads == []


def test_it_refuses_an_expired_token_and_deletes_it(crew, service):
    instance, token = AuthToken.objects.create(crew, timedelta(hours=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    answer = post(token, referral_body(service))
    assert answer.status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()
    assert not Referral.objects.exists()


def test_it_refuses_a_wrong_token_with_a_known_prefix(crew, service):
    _, token = AuthToken.objects.create(crew, timedelta(hours=1))
    wrong = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    assert post(wrong, referral_body(service)).status_code == 401
    assert not Referral.objects.exists()


def test_it_clears_the_users_other_expired_tokens_as_knox_does(crew, service):
    old, _ = AuthToken.objects.create(crew, timedelta(hours=1))
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    live, _ = AuthToken.objects.create(crew, timedelta(hours=2))
    current, token = AuthToken.objects.create(crew, timedelta(hours=1))
    assert post(token, referral_body(service)).status_code == 201
    assert set(AuthToken.objects.filter(user=crew).values_list("pk", flat=True)) == {
        live.pk,
        current.pk,
    }
