import re

import pytest


def test_it_allows_only_self_in_the_content_security_policy(client, db):
    policy = client.get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert "http" not in policy


@pytest.mark.parametrize("path", ["/login/", "/search/", "/referrals/"])
def test_it_puts_no_inline_script_or_style_in_a_page(as_user, crew, path):
    page = as_user(crew).get(path).content.decode()
    for script in re.findall(r"<script[^>]*>", page):
        assert "src=" in script, script
    assert not re.search(r"<style|\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_it_serves_the_nhs_design_system_from_our_own_static_files(as_user, crew):
    page = as_user(crew).get("/search/").content.decode()
    assert "/static/vendor/nhsuk/nhsuk-frontend.min.css" in page
    assert '<script type="module" src="/static/js/app.js">' in page
