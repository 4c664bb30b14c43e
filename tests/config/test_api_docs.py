"""The API docs page loads Swagger UI from our own static files, under the site's CSP."""

import re

from django.test import Client


def test_it_serves_swagger_ui_from_our_own_static_files(db):
    answer = Client().get("/api/docs/")
    assert answer.status_code == 200
    page = answer.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(src.startswith("/") for src in sources), sources
    assert "cdn" not in page.lower() and "@latest" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources


def test_it_puts_the_docs_page_under_the_self_only_policy(db):
    answer = Client().get("/api/docs/")
    policy = answer["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page = answer.content.decode()
    assert "<script>" not in page and "<style>" not in page  # nothing inline to block


def test_it_serves_the_start_up_script_as_its_own_file(db):
    answer = Client().get("/api/docs/?script=")
    assert answer.status_code == 200
    assert "SwaggerUIBundle" in answer.content.decode()
