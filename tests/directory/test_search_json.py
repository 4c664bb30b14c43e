"""The search's answer as the API sends it: every datetime already ISO 8601 text, as
isoformat() writes it, before the renderer sees it (the renderer's own datetime format
differs: 'Z' for UTC)."""

from datetime import date, datetime, time

from directory.search import search_query_from_params, service_search
from directory.search.results import service_summary
from tests.directory.search_helpers import ORIGIN, place_service
from tests.factories import category

# Wednesday 10 June 2026, 07:40.
EARLY = datetime.fromisoformat("2026-06-10T07:40:00+01:00")


def _answer(**params):
    params = {"lat": str(ORIGIN[0]), "lon": str(ORIGIN[1]), "at": EARLY.isoformat(), **params}
    result = service_search(query=search_query_from_params(params))
    return result, result.as_dict()


def _every_value_as_text(value):
    """The answer as a walk over every value would write it: the rule the API has kept."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _every_value_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_every_value_as_text(item) for item in value]
    return value


def _temporal_values(value, path="answer"):
    if isinstance(value, datetime | date | time):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _temporal_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _temporal_values(item, f"{path}[{index}]")


def test_it_sends_every_time_in_a_search_answer_as_iso_text(db):
    place_service(0.5)  # open around the clock: capacity set and expiring
    place_service(0.6, hours=[(d, "08:00", "18:00") for d in range(5)])  # opens_at 08:00
    place_service(0.7, hours=[(d, "06:00", "18:00") for d in range(5)])  # next_change 18:00
    place_service(0.8, hours=[(2, "06:00", "07:50")])  # closes within 30 minutes: left out

    result, answer = _answer(category="falls", within="4h", explain="true")

    assert list(_temporal_values(answer)) == []
    assert answer == _every_value_as_text(
        {
            "origin": result.origin,
            "count": len(result.results),
            "results": result.results,
            "excluded": result.excluded,
            "fallback": result.fallback,
        }
    )
    shown = answer["results"]
    assert {item["opens_at"] for item in shown} == {None, "2026-06-10T08:00:00+01:00"}
    assert "2026-06-10T18:00:00+01:00" in {item["next_change"] for item in shown}
    assert shown[0]["capacity"]["expires_at"] == "2026-06-10T15:00:00+00:00"
    assert [item["closes_at"] for item in answer["excluded"]] == ["2026-06-10T07:50:00+01:00"]


def test_it_sends_the_fallbacks_times_as_iso_text(db):
    place_service(20, categories=[category("emergency-department")])

    result, answer = _answer(category="falls")

    assert answer["results"] == [] and len(answer["fallback"]) == 1
    assert list(_temporal_values(answer)) == []
    assert answer["fallback"] == _every_value_as_text(result.fallback)


def test_it_sends_one_services_times_as_iso_text(db):
    service = place_service(0.5)

    summary = service_summary(service, EARLY)

    assert list(_temporal_values(summary)) == []
    assert isinstance(summary["capacity"]["updated_at"], str)
