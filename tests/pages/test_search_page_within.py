"""The search page takes how soon the patient must be seen, and says when a service opens."""

import re
from datetime import timedelta

from django.utils import timezone

from tests.factories import ServiceFactory

LATER_NAME = "Opens Soon Falls Team"


def _opening_in_20_minutes(provider):
    # The page searches at the real now, so the service opens 20 minutes from it.
    start = timezone.localtime(timezone.now() + timedelta(minutes=20)).replace(
        second=0, microsecond=0
    ) + timedelta(minutes=1)
    end = start + timedelta(hours=3)
    return ServiceFactory(
        organisation=provider,
        name=LATER_NAME,
        hours=[(start.weekday(), start.strftime("%H:%M"), end.strftime("%H:%M"))],
    )


def _search(client, **params):
    params = {"searched": "1", "postcode": "SW1A 1AA", "open": "on", **params}
    return client.get("/search/", params)


def test_it_offers_the_urgency_choices(as_user, crew):
    page = as_user(crew).get("/search/").content.decode()
    assert 'name="within"' in page
    assert "Within 4 hours" in page


def test_it_lists_a_service_opening_within_the_window_saying_when(as_user, crew, service, provider):
    _opening_in_20_minutes(provider)
    now_only = _search(as_user(crew), category="falls").content.decode()
    within_4h = _search(as_user(crew), category="falls", within="4h").content.decode()

    assert LATER_NAME not in now_only.split("Why are some services not shown?")[0]
    results = within_4h.split("Why are some services not shown?")[0]
    assert results.index("Alpha Falls Response") < results.index(LATER_NAME)
    assert re.search(r"Opens \d\d:\d\d( tomorrow)?, in 2[01] min", results)


def test_it_shows_a_closed_service_that_takes_referrals_with_open_ticked(
    as_user, crew, postcode, provider
):
    ServiceFactory(
        organisation=provider, name="Night Desk", hours=[], accepts_referrals_when_closed=True
    )
    page = _search(as_user(crew), category="falls").content.decode()
    assert "Night Desk" in page.split("Why are some services not shown?")[0]
    assert "Closed, takes referrals now" in page


def _card_of(page: str, name: str) -> str:
    start = page.index(name)
    end = page.find('class="nhsuk-card', start)
    return page[start : end if end != -1 else len(page)]


def test_it_offers_refer_for_a_service_opening_within_the_window(as_user, crew, service, provider):
    later = _opening_in_20_minutes(provider)
    page = _search(as_user(crew), category="falls", within="4h").content.decode()
    card = _card_of(page.split("Why are some services not shown?")[0], LATER_NAME)
    assert f"/refer/{later.pk}/?" in card
    assert "Cannot refer now" not in card


def test_the_refer_page_takes_the_searchs_urgency(as_user, crew, service, provider):
    later = _opening_in_20_minutes(provider)
    answer = as_user(crew).get(
        f"/refer/{later.pk}/", {"postcode": "SW1A 1AA", "category": "falls", "within": "4h"}
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert re.search(r'value="within_4h"[^>]*checked', page)


def test_the_refer_page_refuses_when_the_searchs_urgency_is_too_soon(
    as_user, crew, service, provider
):
    later = _opening_in_20_minutes(provider)
    answer = as_user(crew).get(
        f"/refer/{later.pk}/", {"postcode": "SW1A 1AA", "category": "falls", "within": "now"}
    )
    assert answer.status_code == 409
    assert "Closed now" in answer.content.decode()
