"""Requests that no view answers normally still get the API's one error shape, never a 500."""

import json

from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD


def _shape(answer) -> dict:
    assert answer["Content-Type"].startswith("application/json")
    error = answer.json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    return error


def test_it_answers_an_unmatched_api_path_in_the_error_shape(db):
    answer = APIClient().get("/api/v1/no-such-thing/")
    assert answer.status_code == 404
    assert _shape(answer)["code"] == "not_found"


def test_it_still_answers_an_unmatched_page_with_the_nhs_page(db):
    answer = APIClient().get("/no-such-page/")
    assert answer.status_code == 404
    assert b"Page not found" in answer.content


def test_it_refuses_a_body_over_the_size_limit_with_413_in_the_error_shape(crew, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"username": "alice-crew", "password": "x" * 2000})
    answer = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")
    assert answer.status_code == 413
    assert _shape(answer)["code"] == "too_large"


def test_it_refuses_a_form_body_over_the_size_limit_under_api_in_the_error_shape(crew, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice-crew", "password": "x" * 2000}
    )
    assert answer.status_code in {413, 415}
    _shape(answer)


def test_it_refuses_a_deeply_nested_json_body_with_400(db):
    body = "[" * 100_000 + "]" * 100_000
    answer = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")
    assert answer.status_code == 400
    assert _shape(answer)["code"] == "parse_error"


def test_it_refuses_a_token_header_with_non_ascii_bytes_with_401(db):
    answer = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Token \xe9\xe9")
    assert answer.status_code == 401
    assert _shape(answer)["code"] == "not_authenticated"


def test_it_refuses_a_non_ascii_token_header_on_the_referral_create_too(db):
    answer = APIClient().post(
        "/api/v1/referrals/", {}, format="json", HTTP_AUTHORIZATION="Token \xe9" * 3
    )
    assert answer.status_code == 401


def test_it_still_logs_in_after_the_parser_change(crew):
    answer = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "alice-crew", "password": TEST_PASSWORD},
        format="json",
    )
    assert answer.status_code == 201
