from datetime import timedelta

from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD


def _login(username, password=TEST_PASSWORD):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_it_issues_a_token_that_opens_the_api(crew):
    answer = _login("alice-crew")
    assert answer.status_code == 201
    token = answer.json()["token"]
    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["username"] == "alice-crew"
    assert me.json()["role"] == "crew"
    assert me.json()["organisation"]["name"] == crew.organisation.name


def test_it_stores_only_a_hash_of_the_token(crew):
    token = _login("alice-crew").json()["token"]
    stored = AuthToken.objects.get(user=crew)
    assert token not in stored.digest
    assert stored.token_key == token[: len(stored.token_key)]


def test_it_gives_the_token_an_expiry(crew, settings):
    answer = _login("alice-crew").json()
    stored = AuthToken.objects.get(user=crew)
    assert stored.expiry > timezone.now() + timedelta(hours=settings.TOKEN_TTL_HOURS - 1)
    assert answer["expiry"]


def test_it_refuses_an_expired_token(crew):
    token = _login("alice-crew").json()["token"]
    AuthToken.objects.filter(user=crew).update(expiry=timezone.now() - timedelta(seconds=1))
    answer = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


def test_it_revokes_the_callers_token_only(crew):
    first = _login("alice-crew").json()["token"]
    second = _login("alice-crew").json()["token"]
    revoked = APIClient().delete("/api/v1/auth/token/", HTTP_AUTHORIZATION=f"Token {first}")
    assert revoked.status_code == 204
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 401
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_it_refuses_a_wrong_password_without_saying_which_part_was_wrong(crew):
    answer = _login("alice-crew", "nope")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_credentials"
    assert AuthToken.objects.count() == 0


def test_it_names_the_missing_field(db):
    answer = APIClient().post("/api/v1/auth/token/", {"username": "x"}, format="json")
    assert answer.status_code == 400
    assert "password" in answer.json()["error"]["fields"]


def test_it_answers_unauthenticated_callers_with_401(db):
    answer = APIClient().get("/api/v1/me/")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"
