"""The API's lists: a bad page number is named, like any other bad parameter."""

import pytest

LISTS = ["/api/v1/services/", "/api/v1/referrals/", "/api/v1/endpoints/"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("number", ["abc", "0", "-1", "²"])
def test_it_refuses_a_page_that_is_not_a_whole_number_from_1_naming_page(api_as, crew, url, number):
    answer = api_as(crew).get(url, {"page": number})

    assert answer.status_code == 400
    assert "page" in answer.json()["error"]["fields"]


@pytest.mark.parametrize("url", LISTS)
def test_it_says_a_page_past_the_last_is_not_there_naming_page(api_as, crew, url):
    answer = api_as(crew).get(url, {"page": "99"})

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert "page" in answer.json()["error"]["fields"]


@pytest.mark.parametrize("url", LISTS)
def test_it_still_answers_the_first_and_last_pages(api_as, crew, url):
    for number in ("1", "last"):
        assert api_as(crew).get(url, {"page": number}).status_code == 200
