"""Logins are throttled on the API, the login page and the admin, and operators can unlock."""

import pytest
from axes.utils import reset as axes_reset
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD

WRONG = "not the password at all"


@pytest.fixture(autouse=True)
def fresh_axes(db, settings):
    settings.AXES_FAILURE_LIMIT = 5
    axes_reset()
    yield
    axes_reset()


def _api_login(password):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": "alice-crew", "password": password}, format="json"
    )


def test_it_locks_the_api_login_after_five_wrong_passwords(crew):
    for _ in range(4):
        assert _api_login(WRONG).status_code == 401
    locked = _api_login(WRONG)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"

    answer = _api_login(TEST_PASSWORD)  # even the right password, while locked out
    assert answer.status_code == 429
    message = answer.json()["error"]["message"]
    assert "Too many failed sign-ins" in message
    assert "ask an operator to unlock" in message
    assert "token" not in answer.json()


def test_it_lets_the_right_password_in_after_fewer_failures(crew):
    for _ in range(4):
        _api_login(WRONG)
    assert _api_login(TEST_PASSWORD).status_code == 201


def test_it_locks_the_login_page_and_says_what_to_do(crew):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "alice-crew", "password": WRONG})
    answer = client.post("/login/", {"username": "alice-crew", "password": TEST_PASSWORD})
    assert answer.status_code == 429
    page = answer.content.decode()
    assert "nhsuk-error-summary" in page
    assert "Too many failed sign-ins" in page
    assert "_auth_user_id" not in client.session


def test_it_locks_the_admin_login(operator):
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": "erin-operator", "password": WRONG})
    answer = client.post("/admin/login/", {"username": "erin-operator", "password": TEST_PASSWORD})
    assert answer.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_counts_failures_on_one_door_against_the_others(crew):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "alice-crew", "password": WRONG})
    assert _api_login(TEST_PASSWORD).status_code == 429


def test_an_operator_can_unlock_an_account(crew):
    for _ in range(5):
        _api_login(WRONG)
    assert _api_login(TEST_PASSWORD).status_code == 429

    call_command("axes_reset_username", "alice-crew")

    assert _api_login(TEST_PASSWORD).status_code == 201


def test_an_operator_can_unlock_an_account_in_the_admin(crew, operator):
    from axes.models import AccessAttempt

    for _ in range(5):
        _api_login(WRONG)
    attempt = AccessAttempt.objects.get(username="alice-crew")
    admin = Client()
    admin.force_login(operator)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200

    answer = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert answer.status_code == 302
    assert _api_login(TEST_PASSWORD).status_code == 201


def test_only_operators_see_login_attempts_in_the_admin(partner):
    partner.is_staff = True
    partner.save()
    client = Client()
    client.force_login(partner)
    assert client.get("/admin/axes/accessattempt/").status_code == 403
