"""HSTS, CSP, nosniff and Referrer-Policy on pages, the API and the admin, as production sends
them (tests run with DEBUG on, where HSTS is off: it is set here as production sets it)."""

import pytest


@pytest.mark.parametrize("path", ["/login/", "/api/v1/me/", "/admin/login/", "/hsds/"])
def test_every_kind_of_answer_carries_the_security_headers(client, db, settings, path):
    settings.SECURE_HSTS_SECONDS = 31536000

    answer = client.get(path, secure=True)

    assert answer["Strict-Transport-Security"].startswith("max-age=31536000")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in answer["Content-Security-Policy"]
