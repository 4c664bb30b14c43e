"""Passwords: Django's validators are on, and a changed password ends every device's token."""

import pytest
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD


def _token(username="alice-crew"):
    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": TEST_PASSWORD}, format="json"
    )
    assert answer.status_code == 201
    return answer.json()["token"]


def _me(token):
    return APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")


@pytest.mark.parametrize("password", ["1", "password123", "short-pw-1", "123456789012345"])
def test_it_refuses_weak_passwords(db, password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_it_accepts_a_long_uncommon_password(db):
    validate_password("plum orchard lantern 42")


def test_the_operators_set_password_form_refuses_a_short_password(crew):
    form = SetPasswordForm(crew, {"new_password1": "1", "new_password2": "1"})
    assert not form.is_valid()
    assert "new_password2" in form.errors


def test_it_revokes_every_token_when_the_password_changes(crew):
    first, second = _token(), _token()
    assert _me(first).status_code == 200

    crew.set_password("a brand new long passphrase")
    crew.save()

    assert _me(first).status_code == 401
    assert _me(second).status_code == 401
    assert not AuthToken.objects.filter(user=crew).exists()


def test_it_keeps_tokens_when_the_user_is_saved_without_a_password_change(crew):
    token = _token()
    crew.first_name = "Alice"
    crew.save()
    assert _me(token).status_code == 200


def test_it_caps_tokens_per_user_revoking_the_oldest(crew, settings):
    settings.TOKEN_LIMIT_PER_USER = 3
    tokens = [_token() for _ in range(4)]
    assert AuthToken.objects.filter(user=crew).count() == 3
    assert _me(tokens[0]).status_code == 401
    assert all(_me(token).status_code == 200 for token in tokens[1:])


def test_it_revokes_every_device_at_once(crew, partner):
    phone, tablet = _token(), _token()
    others = _token("bob-partner")

    answer = APIClient().delete("/api/v1/auth/token/all/", HTTP_AUTHORIZATION=f"Token {phone}")

    assert answer.status_code == 204
    assert _me(phone).status_code == 401
    assert _me(tablet).status_code == 401
    assert _me(others).status_code == 200


def test_revoking_every_device_needs_a_login(db):
    assert APIClient().delete("/api/v1/auth/token/all/").status_code == 401
