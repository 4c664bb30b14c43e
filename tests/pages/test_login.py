import pytest

from tests.factories import TEST_PASSWORD


def test_it_sends_a_signed_out_visitor_to_the_login_page(client, db):
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer["Location"] == "/login/"


def test_it_logs_a_crew_in_and_sends_them_to_the_search(client, crew):
    answer = client.post("/login/", {"username": "alice-crew", "password": TEST_PASSWORD})
    assert answer.status_code == 302
    assert client.get(answer["Location"])["Location"] == "/search/"


def test_it_shows_the_nhs_error_summary_for_a_wrong_password(client, crew):
    answer = client.post("/login/", {"username": "alice-crew", "password": "nope"})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "nhsuk-error-summary" in page
    assert "Enter a correct username and password" in page
    assert 'value="alice-crew"' in page  # what was typed is kept
    assert "_auth_user_id" not in client.session


def test_it_names_each_missing_field(client, db):
    page = client.post("/login/", {}).content.decode()
    assert '<a href="#id_username">Enter your username</a>' in page
    assert '<a href="#id_password">Enter your password</a>' in page


@pytest.mark.parametrize(
    "who, home",
    [
        ("crew", "/search/"),
        ("partner", "/inbox/"),
        ("planner", "/reports/"),
        ("operator", "/admin/"),
    ],
)
def test_it_sends_each_role_to_its_home(request, as_user, who, home):
    user = request.getfixturevalue(who)
    answer = as_user(user).get("/")
    assert answer.status_code == 302
    assert answer["Location"] == home


def test_it_logs_out_on_post_only(as_user, crew):
    client = as_user(crew)
    assert client.get("/logout/").status_code == 405
    answer = client.post("/logout/")
    assert answer.status_code == 302
    assert client.get("/").url == "/login/"


def test_it_shows_each_role_only_its_own_links(as_user, crew, partner):
    crew_page = as_user(crew).get("/search/").content.decode()
    partner_page = as_user(partner).get("/inbox/").content.decode()
    assert 'href="/referrals/"' in crew_page and 'href="/inbox/"' not in crew_page
    assert 'href="/inbox/"' in partner_page and 'href="/search/"' not in partner_page
    assert 'href="/admin/"' in partner_page
