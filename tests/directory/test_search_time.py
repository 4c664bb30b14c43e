"""Within the time needed: a service fits when it is open now, or opens within the urgency
window and stays open long enough; the pure rule, the search (fast path and explain) and
the referral check all read it the same way."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from directory.hours import DayHours, time_fit
from directory.index import service_index_rebuild
from directory.models import BankHolidayHours, OpeningException
from directory.search import search_query_from_params, service_search
from directory.selectors import service_fit
from directory.timing import STAY
from tests.directory.search_helpers import ORIGIN, ids, place_service, search
from tests.factories import borough

LONDON = ZoneInfo("Europe/London")
WEEKDAYS_8_TO_18 = [(d, time(8), time(18)) for d in range(5)]
# Wednesday 10 June 2026, 07:40: twenty minutes before a weekday service opens.
EARLY = datetime(2026, 6, 10, 7, 40, tzinfo=LONDON)


def _fit(spans, at, minutes, exceptions=None, bank_holiday_hours="normal"):
    return time_fit(
        spans,
        exceptions or {},
        bank_holiday_hours,
        at,
        within=timedelta(minutes=minutes),
        stay=STAY,
    )


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


# --- the pure rule ---------------------------------------------------------------------


def test_it_takes_a_service_opening_in_20_minutes_within_4_hours_but_not_now():
    assert _fit(WEEKDAYS_8_TO_18, EARLY, 240).takes_from == EARLY.replace(hour=8, minute=0)
    assert _fit(WEEKDAYS_8_TO_18, EARLY, 0).takes_from is None


def test_it_counts_an_opening_exactly_at_the_windows_end_and_not_a_minute_after():
    at_0700 = EARLY.replace(hour=7, minute=0)
    assert _fit(WEEKDAYS_8_TO_18, at_0700, 60).takes_from is not None
    assert _fit(WEEKDAYS_8_TO_18, at_0700 - timedelta(minutes=1), 60).takes_from is None


def test_it_does_not_count_an_opening_too_short_to_take_the_patient():
    brief = [(2, time(8), time(8, 20))]  # Wednesday 08:00-08:20
    assert _fit(brief, EARLY, 240).takes_from is None


def test_it_looks_across_midnight_into_tomorrows_opening():
    late = datetime(2026, 6, 10, 23, 30, tzinfo=LONDON)  # Wednesday night
    fit = _fit(WEEKDAYS_8_TO_18, late, 1440)
    assert fit.takes_from == datetime(2026, 6, 11, 8, 0, tzinfo=LONDON)
    assert _fit(WEEKDAYS_8_TO_18, late, 240).takes_from is None


def test_it_measures_the_window_in_real_minutes_across_the_spring_clock_change():
    # Sunday 29 March 2026: at 01:30 GMT, a service opening at 03:00 BST is 30 real
    # minutes away (90 on the wall clock).
    sunday = [(6, time(3), time(12))]
    at = datetime(2026, 3, 29, 1, 30, tzinfo=LONDON)
    assert _fit(sunday, at, 60).takes_from == datetime(2026, 3, 29, 3, 0, tzinfo=LONDON)


def test_it_measures_the_window_in_real_minutes_across_the_autumn_clock_change():
    # Sunday 25 October 2026: at 01:20 BST (the first 01:20), 02:00 GMT is 100 real
    # minutes away although the wall clock says 40.
    sunday = [(6, time(2), time(12))]
    at = datetime(2026, 10, 25, 0, 20, tzinfo=ZoneInfo("UTC"))
    assert _fit(sunday, at, 60).takes_from is None
    assert _fit(sunday, at, 240).takes_from is not None


def test_it_keeps_a_service_closed_on_bank_holidays_closed_in_the_window():
    bank_holiday = datetime(2026, 8, 31, 7, 40, tzinfo=LONDON)  # Summer bank holiday
    assert _fit(WEEKDAYS_8_TO_18, bank_holiday, 240, bank_holiday_hours="closed").takes_from is None
    assert _fit(WEEKDAYS_8_TO_18, bank_holiday, 240).takes_from is not None


def test_it_follows_a_dated_exception_in_the_window():
    closed_today = {date(2026, 6, 10): DayHours(closed=True)}
    assert _fit(WEEKDAYS_8_TO_18, EARLY, 240, closed_today).takes_from is None
    saturday = datetime(2026, 6, 13, 7, 40, tzinfo=LONDON)
    opening_saturday = {date(2026, 6, 13): DayHours(False, time(9), time(13))}
    assert _fit(WEEKDAYS_8_TO_18, saturday, 240, opening_saturday).takes_from == saturday.replace(
        hour=9, minute=0
    )


# --- the search --------------------------------------------------------------------------


def test_it_lists_a_service_opening_within_the_window_after_the_open_ones_saying_when(crew_api):
    opens_at_8 = place_service(0.5, hours=[(d, "08:00", "18:00") for d in range(5)])
    open_now = place_service(2.0)
    answer = search(crew_api, category="falls", at=EARLY.isoformat(), within="4h", open="true")

    assert ids(answer) == [open_now.pk, opens_at_8.pk]
    later = answer.json()["results"][1]
    assert later["open_now"] is False
    assert later["opens_at"] == "2026-06-10T08:00:00+01:00"
    assert later["opens_in_minutes"] == 20
    assert answer.json()["results"][0]["opens_at"] is None


def test_it_reads_each_search_at_its_own_moment_though_a_days_hours_are_kept(crew_api):
    # The search keeps each pattern's intervals for the day: later searches that day must
    # still be read at their own moment, and the next day's afresh.
    place_service(0.5, hours=[(d, "08:00", "18:00") for d in range(5)])

    def first(at: datetime) -> dict:
        answer = search(crew_api, category="falls", at=at.isoformat(), within="4h")
        return answer.json()["results"][0]

    early = first(EARLY)
    assert (early["open_now"], early["opens_at"]) == (False, "2026-06-10T08:00:00+01:00")
    noon = first(EARLY.replace(hour=12))
    assert (noon["open_now"], noon["next_change"]) == (True, "2026-06-10T18:00:00+01:00")
    evening = first(EARLY.replace(hour=20))
    assert (evening["open_now"], evening["next_change"]) == (False, "2026-06-11T08:00:00+01:00")
    friday_evening = first(EARLY.replace(day=12, hour=20))
    assert friday_evening["next_change"] == "2026-06-15T08:00:00+01:00"


def test_it_leaves_out_a_service_opening_after_the_window_when_open_only(crew_api):
    place_service(0.5, hours=[(d, "11:00", "18:00") for d in range(5)])
    answer = search(
        crew_api, category="falls", at=EARLY.isoformat(), within="1h", open="1", explain="1"
    )
    assert ids(answer) == []
    assert [e["reason"] for e in answer.json()["excluded"]] == ["closed"]


def test_it_refuses_an_unknown_window_naming_the_parameter(crew_api):
    answer = search(crew_api, category="falls", within="2h")
    assert answer.status_code == 400
    assert "within" in answer.json()["error"]["fields"]


def test_it_finds_a_closed_service_that_takes_referrals_when_closed_with_open_ticked(crew_api):
    night_desk = place_service(1.0, hours=[], accepts_referrals_when_closed=True)
    shut = place_service(0.5, hours=[])

    found = search(crew_api, category="falls", open="true")
    explained = search(crew_api, category="falls", open="true", explain="true")

    assert ids(found) == [night_desk.pk]
    assert ids(explained) == [night_desk.pk]
    reasons = {e["id"]: e["reason"] for e in explained.json()["excluded"]}
    assert reasons == {shut.pk: "closed"}


def test_it_judges_uncertain_candidates_with_the_same_window(crew_api):
    # An exception today makes the candidate uncertain: Python judges it, exactly.
    service = place_service(0.5, hours=[(d, "08:00", "18:00") for d in range(5)])
    OpeningException.objects.create(
        service=service, date=EARLY.date(), closed=False, opens=time(9), closes=time(12)
    )
    service_index_rebuild(service=service)
    one_hour = search(crew_api, category="falls", at=EARLY.isoformat(), within="1h", open="1")
    four_hours = search(crew_api, category="falls", at=EARLY.isoformat(), within="4h", open="1")
    assert ids(one_hour) == []
    assert ids(four_hours) == [service.pk]
    assert four_hours.json()["results"][0]["opens_at"] == "2026-06-10T09:00:00+01:00"


HOURS_CASES = {
    "24/7": None,
    "weekdays 8-18": [(d, "08:00", "18:00") for d in range(5)],
    "overnight 20-08": [(d, "20:00", "08:00") for d in range(7)],
    "late 11-13": [(d, "11:00", "13:00") for d in range(7)],
    "sunday night": [(6, "22:00", "06:00")],
    "never": [],
}
MOMENTS = [
    datetime(2026, 6, 10, 7, 40, tzinfo=LONDON),
    datetime(2026, 6, 10, 17, 45, tzinfo=LONDON),
    datetime(2026, 6, 14, 23, 50, tzinfo=LONDON),  # Sunday night: the window wraps the week
    datetime(2026, 6, 11, 7, 55, tzinfo=LONDON),
]


@pytest.mark.parametrize("within", ["now", "1h", "4h", "24h"])
def test_the_fast_path_explain_and_the_referral_check_agree(db, within):
    services = {}
    for n, (name, hours) in enumerate(HOURS_CASES.items()):
        extra = {} if hours is None else {"hours": hours}
        services[name] = place_service(0.3 + 0.1 * n, **extra)
    closer = place_service(0.2, hours=[], accepts_referrals_when_closed=True)
    services["closed, takes referrals"] = closer
    minutes = {"now": 0, "1h": 60, "4h": 240, "24h": 1440}[within]
    for at in MOMENTS:
        params = {"lat": ORIGIN[0], "lon": ORIGIN[1], "category": "falls", "within": within}
        params.update(at=at.isoformat(), open="true", limit="50")
        fast = [r["id"] for r in service_search(query=search_query_from_params(params)).results]
        explained = service_search(query=search_query_from_params({**params, "explain": "true"}))
        exact = {
            service.pk
            for service in services.values()
            if service_fit(
                service=service,
                age=None,
                sex=None,
                borough=borough(),
                at=at,
                within=timedelta(minutes=minutes),
            ).problem
            is None
        }
        assert fast == [r["id"] for r in explained.results], (at, within)
        assert set(fast) == exact, (at, within)


# --- emergency departments and ranking --------------------------------------------------


def test_it_leaves_emergency_departments_out_unless_their_category_is_asked_for(crew_api):
    from tests.factories import category

    ed = place_service(0.3, categories=[category("emergency-department")])
    falls = place_service(1.0)
    assert ids(search(crew_api)) == [falls.pk]
    assert ids(search(crew_api, category="emergency-department")) == [ed.pk]


def test_it_offers_emergency_departments_as_the_fallback_when_nothing_fits(crew_api):
    from tests.factories import category

    ed = place_service(0.3, categories=[category("emergency-department")])
    place_service(1.0, hours=[])
    answer = search(crew_api, open="true")
    assert ids(answer) == []
    assert [f["id"] for f in answer.json()["fallback"]] == [ed.pk]


def test_it_ranks_a_near_amber_service_above_far_green_ones_by_distance_band(crew_api, settings):
    from directory.models import Capacity

    settings.SEARCH_DISTANCE_BAND_M = 3000
    far_green = [place_service(9.0 + 0.1 * n, bearing=10 * n) for n in range(6)]
    near_amber = place_service(1.2, capacity=Capacity.AMBER)
    near_green = place_service(2.5)
    near_red = place_service(0.5, capacity=Capacity.RED)

    order = ids(search(crew_api, category="falls", radius_km=20))

    # Within 0-3 km capacity decides; a nearer band beats a farther one; RED goes last.
    assert order == [near_green.pk, near_amber.pk, *[s.pk for s in far_green], near_red.pk]


def test_it_ranks_by_capacity_across_the_radius_with_the_band_off(crew_api, settings):
    from directory.models import Capacity

    settings.SEARCH_DISTANCE_BAND_M = 0
    far_green = place_service(9.0)
    near_amber = place_service(1.2, capacity=Capacity.AMBER)
    assert ids(search(crew_api, category="falls", radius_km=20)) == [far_green.pk, near_amber.pk]


def test_the_search_reads_the_window_in_real_minutes_on_the_clock_change_day(crew_api):
    service = place_service(0.5, hours=[(6, "03:00", "12:00")])
    at = datetime(2026, 3, 29, 1, 30, tzinfo=LONDON)  # GMT; 03:00 BST is 30 minutes away
    answer = search(crew_api, category="falls", at=at.isoformat(), within="1h", open="1")
    assert ids(answer) == [service.pk]
    assert answer.json()["results"][0]["opens_in_minutes"] == 30


def test_the_search_keeps_bank_holiday_closures_in_the_window(crew_api):
    weekdays = [(d, "08:00", "18:00") for d in range(5)]
    usual = place_service(0.5, hours=weekdays)
    place_service(0.6, hours=weekdays, bank_holiday_hours=BankHolidayHours.CLOSED)
    at = datetime(2026, 8, 31, 7, 40, tzinfo=LONDON)  # Summer bank holiday, Monday
    assert ids(search(crew_api, category="falls", at=at.isoformat(), within="4h", open="1")) == [
        usual.pk
    ]
