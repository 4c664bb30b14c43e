"""Opening hours as the search and the referral check read them (directory/hours.py and the
weekly windows the search precomputes must agree)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from directory.hours import DayHours, opening_state
from directory.index import service_index_rebuild
from directory.models import OpeningException, OpeningSpan
from directory.selectors import service_eligibility_problem
from tests.directory.search_helpers import ids, place_service, search
from tests.factories import borough

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
WEEKDAYS_9_TO_5 = [(d, "09:00", "17:00") for d in range(5)]


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


def _at(*args, tz=LONDON):
    return datetime(*args, tzinfo=tz)


def _result(crew_api, service, at, **params):
    answer = search(crew_api, category="falls", at=at.isoformat(), explain="true", **params)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    found = [r for r in body["results"] if r["id"] == service.pk]
    left_out = [e for e in body["excluded"] if e["id"] == service.pk]
    return (found[0] if found else None), (left_out[0] if left_out else None)


def test_it_reads_an_overnight_span_as_open_into_the_next_morning(crew_api):
    # Monday 20:00 to Tuesday 08:00.
    service = place_service(1.0, hours=[(0, "20:00", "08:00")])
    tuesday_early = _at(2026, 6, 9, 6, 0)

    result, _ = _result(crew_api, service, tuesday_early)

    assert result["open_now"] is True
    assert result["next_change"] == "2026-06-09T08:00:00+01:00"


def test_it_carries_a_sunday_night_span_over_into_monday(crew_api):
    service = place_service(1.0, hours=[(6, "22:00", "06:00")])
    result, _ = _result(crew_api, service, _at(2026, 6, 15, 5, 0))  # Monday 05:00
    assert result["open_now"] is True
    assert result["next_change"] == "2026-06-15T06:00:00+01:00"
    result, _ = _result(crew_api, service, _at(2026, 6, 14, 23, 0))  # Sunday 23:00
    assert result["next_change"] == "2026-06-15T06:00:00+01:00"


def test_it_leaves_out_a_service_closing_within_30_minutes_with_its_closing_time(crew_api):
    service = place_service(1.0, hours=WEEKDAYS_9_TO_5)

    result, left_out = _result(crew_api, service, _at(2026, 6, 10, 16, 40))
    assert result is None
    assert left_out["reason"] == "closing_soon"
    assert left_out["closes_at"] == "2026-06-10T17:00:00+01:00"
    # Without explain the fast path leaves it out too.
    assert service.pk not in ids(search(crew_api, category="falls", at="2026-06-10T16:40:00+01:00"))
    assert service.pk in ids(search(crew_api, category="falls", at="2026-06-10T16:29:00+01:00"))


def test_it_does_not_call_adjacent_spans_a_closing(crew_api):
    service = place_service(1.0, hours=[(2, "08:00", "17:00"), (2, "17:00", "23:00")])
    result, _ = _result(crew_api, service, _at(2026, 6, 10, 16, 50))
    assert result["open_now"] is True
    assert result["next_change"] == "2026-06-10T23:00:00+01:00"


def test_it_ranks_a_closed_service_last_and_drops_it_when_open_only(crew_api):
    service = place_service(1.0, hours=WEEKDAYS_9_TO_5)
    saturday = "2026-06-13T12:00:00+01:00"

    answer = search(crew_api, category="falls", at=saturday).json()
    assert answer["results"][0]["open_now"] is False
    assert answer["results"][0]["next_change"] == "2026-06-15T09:00:00+01:00"
    assert ids(search(crew_api, category="falls", at=saturday, open="true")) == []
    explained = search(crew_api, category="falls", at=saturday, open="true", explain="1").json()
    assert explained["excluded"][0]["reason"] == "closed"
    assert explained["excluded"][0]["id"] == service.pk


def test_it_honours_a_dated_closure(crew_api):
    service = place_service(1.0, hours=WEEKDAYS_9_TO_5)
    OpeningException.objects.create(service=service, date=date(2026, 6, 10), closed=True)

    result, _ = _result(crew_api, service, _at(2026, 6, 10, 12, 0))
    assert result["open_now"] is False
    assert ids(search(crew_api, category="falls", at="2026-06-10T12:00:00+01:00", open="1")) == []


def test_it_honours_a_dated_opening_on_a_day_usually_closed(crew_api):
    service = place_service(1.0, hours=WEEKDAYS_9_TO_5)
    OpeningException.objects.create(
        service=service, date=date(2026, 6, 13), closed=False, opens=time(10), closes=time(14)
    )

    assert ids(search(crew_api, category="falls", at="2026-06-13T11:00:00+01:00", open="1")) == [
        service.pk
    ]
    result, left_out = _result(crew_api, service, _at(2026, 6, 13, 13, 45))
    assert left_out["reason"] == "closing_soon"
    assert left_out["closes_at"] == "2026-06-13T14:00:00+01:00"


@pytest.mark.parametrize(
    "bank_holiday_hours,open_now",
    [("normal", True), ("closed", False), ("sunday", False)],
)
def test_it_applies_bank_holiday_hours(crew_api, bank_holiday_hours, open_now):
    # Spring bank holiday, Monday 25 May 2026; no Sunday hours.
    service = place_service(1.0, hours=WEEKDAYS_9_TO_5, bank_holiday_hours=bank_holiday_hours)
    result, _ = _result(crew_api, service, _at(2026, 5, 25, 12, 0))
    assert result["open_now"] is open_now


def test_it_uses_sunday_hours_on_a_bank_holiday_when_told(crew_api):
    service = place_service(
        1.0, hours=[*WEEKDAYS_9_TO_5, (6, "10:00", "12:00")], bank_holiday_hours="sunday"
    )
    result, left_out = _result(crew_api, service, _at(2026, 5, 25, 11, 0))
    assert result["open_now"] is True
    assert result["next_change"] == "2026-05-25T12:00:00+01:00"


def test_it_counts_real_minutes_on_the_spring_clock_change(crew_api):
    # 29 March 2026: 01:00 GMT becomes 02:00 BST. Open 00:00-02:15 on Sunday: at 00:50 GMT
    # the closing is 25 real minutes away (though 85 minutes on the wall clock).
    service = place_service(1.0, hours=[(6, "00:00", "02:15")])
    result, left_out = _result(crew_api, service, _at(2026, 3, 29, 0, 50, tz=UTC))
    assert result is None
    assert left_out["reason"] == "closing_soon"
    assert left_out["closes_at"] == "2026-03-29T02:15:00+01:00"
    assert service.pk not in ids(search(crew_api, category="falls", at="2026-03-29T00:50:00Z"))


def test_it_counts_real_minutes_on_the_autumn_clock_change(crew_api):
    # 25 October 2026: 02:00 BST becomes 01:00 GMT. Open 00:00-02:00 on Sunday: at the first
    # 01:40 (00:40 UTC) the closing at 02:00 GMT is 80 real minutes away, not 20.
    service = place_service(1.0, hours=[(6, "00:00", "02:00")])
    result, _ = _result(crew_api, service, _at(2026, 10, 25, 0, 40, tz=UTC))
    assert result["open_now"] is True
    assert result["next_change"] == "2026-10-25T02:00:00+00:00"
    result, left_out = _result(crew_api, service, _at(2026, 10, 25, 1, 40, tz=UTC))
    assert left_out["reason"] == "closing_soon"


def test_it_makes_a_clock_change_day_23_or_25_hours_long():
    always = [(d, time(0), time(0)) for d in range(7)]
    spring = opening_state([(6, time(0), time(0))], {}, "normal", _at(2026, 3, 29, 12))
    autumn = opening_state([(6, time(0), time(0))], {}, "normal", _at(2026, 10, 25, 12))
    # Subtract in UTC: Python subtracts two times of one zone on the wall clock.
    assert spring.next_change.astimezone(UTC) - _at(2026, 3, 29, 0).astimezone(UTC) == timedelta(
        hours=23
    )
    assert autumn.next_change.astimezone(UTC) - _at(2026, 10, 25, 0).astimezone(UTC) == timedelta(
        hours=25
    )
    assert opening_state(always, {}, "normal", _at(2026, 3, 29, 1, 30, tz=UTC)).open
    closed_today = {date(2026, 6, 10): DayHours(closed=True)}
    assert not opening_state(always, closed_today, "normal", _at(2026, 6, 10, 12)).open


def test_it_follows_changed_hours_once_the_index_is_rebuilt(crew_api):
    service = place_service(1.0, hours=WEEKDAYS_9_TO_5)
    saturday = "2026-06-13T12:00:00+01:00"
    assert ids(search(crew_api, category="falls", at=saturday, open="1")) == []

    OpeningSpan.objects.create(service=service, weekday=5, opens=time(9), closes=time(17))
    service_index_rebuild(service=service)

    assert ids(search(crew_api, category="falls", at=saturday, open="1")) == [service.pk]


def test_it_lets_a_service_taking_referrals_when_closed_be_referred_to(db):
    shut = place_service(1.0, hours=[])
    night_desk = place_service(1.0, hours=[], accepts_referrals_when_closed=True)
    at = _at(2026, 6, 10, 12)
    args = {"age": 50, "sex": "male", "borough": borough(), "at": at}
    assert service_eligibility_problem(service=shut, **args) == "closed"
    assert service_eligibility_problem(service=night_desk, **args) is None
