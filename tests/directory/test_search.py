from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from geopy.distance import geodesic

from directory.models import Capacity, Postcode, SearchLog
from directory.search import search_log_record, search_query_from_params, service_search
from directory.selectors import service_eligibility_problem
from tests.directory.search_helpers import AT, ORIGIN, ids, place_service, search
from tests.factories import borough, category


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


def test_it_ranks_open_green_then_amber_unknown_red_then_closed(crew_api):
    closed = place_service(0.5, hours=[])
    red = place_service(0.6, capacity=Capacity.RED)
    unknown = place_service(0.7, capacity_expires_at=AT - timedelta(minutes=1))
    amber = place_service(0.8, capacity=Capacity.AMBER)
    green = place_service(0.9, capacity=Capacity.GREEN)

    assert ids(search(crew_api, category="falls")) == [
        green.pk,
        amber.pk,
        unknown.pk,
        red.pk,
        closed.pk,
    ]


def test_it_ranks_nearer_first_within_a_rank_and_breaks_ties_by_id(crew_api):
    far = place_service(3.0)
    tie_a = place_service(1.0, bearing=0)
    tie_b = place_service(1.0, bearing=0)
    near = place_service(0.2)

    assert ids(search(crew_api, category="falls")) == [near.pk, tie_a.pk, tie_b.pk, far.pk]


def test_it_keeps_to_the_radius_by_great_circle_distance(crew_api):
    inside = place_service(4.9, bearing=45)
    outside = place_service(5.1, bearing=45)  # inside the bounding box, outside the circle

    found = ids(search(crew_api, category="falls", radius_km=5))
    assert inside.pk in found
    assert outside.pk not in found


@pytest.mark.parametrize("km,bearing", [(0.3, 10), (2.5, 100), (9.7, 200), (35, 300), (80, 45)])
def test_it_reports_distances_within_half_a_percent_of_geodesic(crew_api, km, bearing):
    service = place_service(km, bearing=bearing)
    answer = search(crew_api, category="falls", radius_km=100).json()
    [result] = [r for r in answer["results"] if r["id"] == service.pk]
    truth = geodesic(ORIGIN, (service.location.latitude, service.location.longitude)).km
    assert abs(result["distance_km"] - truth) <= max(truth * 0.005, 0.005)


def test_it_filters_by_category_and_lists_a_service_of_two_categories_once(crew_api):
    both = place_service(1.0, categories=[category("falls"), category("frailty")])
    only_frailty = place_service(1.1, categories=[category("frailty")])
    place_service(1.2, categories=[category("pharmacy")])

    assert ids(search(crew_api, category=["falls", "frailty"])) == [both.pk, only_frailty.pk]
    assert ids(search(crew_api, category="falls")) == [both.pk]


def test_it_answers_with_everything_a_crew_needs(crew_api):
    service = place_service(
        1.0,
        capacity_slots=3,
        professional_phone="020 7946 0000",
        referral_instructions="Ring the coordinator first.",
        min_age=65,
    )
    answer = search(crew_api, category="falls", age=70).json()

    assert answer["count"] == 1
    assert answer["origin"]["borough"]["name"] == "Westminster"
    assert answer["origin"]["ics"] == "NWL"
    assert answer["fallback"] == []
    assert "excluded" not in answer
    [result] = answer["results"]
    assert result["id"] == service.pk
    assert result["organisation"] == {
        "id": service.organisation_id,
        "name": service.organisation.name,
    }
    assert result["categories"] == ["falls"]
    assert result["open_now"] is True
    assert result["next_change"] is None  # open around the clock
    assert result["capacity"]["status"] == "GREEN"
    assert result["capacity"]["slots"] == 3
    assert result["location"]["borough"] == "Westminster"
    assert result["location"]["ics"] == "NWL"
    assert result["professional_phone"] == "020 7946 0000"
    assert result["referral_instructions"] == "Ring the coordinator first."
    assert result["eligibility"]["min_age"] == 65


def test_it_offers_the_two_nearest_emergency_departments_when_nothing_fits(crew_api):
    ed_near = place_service(20, categories=[category("emergency-department")])
    ed_nearer = place_service(15, categories=[category("emergency-department")])
    place_service(25, categories=[category("emergency-department")])
    place_service(61, categories=[category("emergency-department")])
    place_service(1.0, min_age=65)  # falls, but not for this patient

    answer = search(crew_api, category="falls", age=30).json()

    assert answer["count"] == 0
    assert [f["id"] for f in answer["fallback"]] == [ed_nearer.pk, ed_near.pk]
    assert answer["fallback"][0]["distance_km"] == pytest.approx(15, rel=0.01)


def test_it_searches_from_a_postcode(crew_api):
    camden = borough("Camden")
    Postcode.objects.create(postcode="NW1 2DB", latitude=51.5320, longitude=-0.1270, borough=camden)
    service = place_service(1.0)

    answer = crew_api.get(
        "/api/v1/services/search/",
        {"postcode": "nw12db", "category": "falls", "at": AT.isoformat(), "radius_km": 20},
    )

    assert ids(answer) == [service.pk]
    origin = answer.json()["origin"]
    assert origin["postcode"] == "NW1 2DB"
    assert origin["borough"]["name"] == "Camden"
    assert origin["lat"] == 51.5320


def test_it_judges_a_coordinates_borough_from_the_point_not_from_a_postcode_in_the_table(db):
    # A postcode row 100 m away that says Lambeth (demo data places invented postcodes so).
    Postcode.objects.create(
        postcode="SW1A 1AA", latitude=ORIGIN[0], longitude=ORIGIN[1], borough=borough("Lambeth")
    )
    near = search_query_from_params({"lat": ORIGIN[0] + 0.001, "lon": ORIGIN[1]})

    assert near.origin_borough.name == "Westminster"  # the nearest sector centre's borough
    assert near.origin_postcode is None
    assert near.origin_area.startswith("SW1")


def test_it_writes_a_deidentified_search_log(crew_api, crew):
    place_service(1.0)
    Postcode.objects.create(
        postcode="SW1A 1AA", latitude=ORIGIN[0], longitude=ORIGIN[1], borough=borough()
    )
    search(crew_api, category="falls", age=83)

    log = SearchLog.objects.get()
    assert log.postcode_district == "SW1E"  # of the postcode sector nearest the point
    assert log.borough.name == "Westminster"
    assert log.categories == ["falls"]
    assert log.age_band == "80+"
    assert log.result_count == 1
    assert log.fallback_shown is False
    assert log.organisation == crew.organisation


def test_it_logs_a_search_that_found_nothing_with_the_fallback_it_showed(crew_api):
    place_service(15, categories=[category("emergency-department")])

    answer = search(crew_api, category="falls").json()

    assert answer["count"] == 0 and len(answer["fallback"]) == 1
    log = SearchLog.objects.get()
    assert (log.result_count, log.fallback_shown) == (0, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_it_writes_the_log_row_in_the_statement_that_reads_the_page(crew_api):
    place_service(1.0)
    place_service(2.0)
    search(crew_api, category="falls")  # the token and the compiled statements, once

    with CaptureQueriesContext(connection) as statements:
        assert len(ids(search(crew_api, category="falls"))) == 2

    logged = [q["sql"] for q in statements if "directory_searchlog" in q["sql"]]
    assert len(logged) == 1 and '"directory_service"' in logged[0]
    assert SearchLog.objects.filter(result_count=2).count() == 2


def test_it_writes_every_column_of_the_log_row_for_a_search_outside_london(db):
    query = search_query_from_params(
        {"lat": "53.4808", "lon": "-2.2426", "category": ["falls", "frailty"], "age": "12"}
    )
    result = service_search(query=query)
    before = timezone.now()

    search_log_record(query=query, result=result, user=SimpleNamespace())  # no organisation

    log = SearchLog.objects.get()
    assert before <= log.created_at <= timezone.now()
    assert model_to_dict(log, exclude=["id", "created_at"]) == {
        "borough": None,
        "postcode_district": query.origin_area.split(" ")[0] if query.origin_area else "",
        "categories": ["falls", "frailty"],
        "age_band": "0-17",
        "result_count": 0,
        "fallback_shown": False,
        "organisation": None,
    }


def test_it_refuses_planners(api_as, planner):
    answer = search(api_as(planner), category="falls")
    assert answer.status_code == 403
    assert SearchLog.objects.count() == 0


def test_it_explains_the_same_ranking_with_reasons_that_match_the_referral_check(crew_api):
    place_service(0.5, hours=[])
    place_service(0.6, capacity=Capacity.AMBER)
    place_service(0.7, min_age=18, max_age=64)
    place_service(0.8, sexes=["female"])
    place_service(0.9, capacity_slots=0)
    place_service(1.0, covers=[borough("Camden")])
    place_service(1.1, active=False)
    place_service(1.2)

    plain = search(crew_api, category="falls", age=70, sex="male").json()
    explained = search(crew_api, category="falls", age=70, sex="male", explain="true").json()

    assert [r["id"] for r in plain["results"]] == [r["id"] for r in explained["results"]]
    reasons = {e["id"]: e["reason"] for e in explained["excluded"]}
    assert sorted(reasons.values()) == [
        "full",
        "inactive",
        "not_eligible_age",
        "not_eligible_sex",
        "outside_area",
    ]
    from directory.models import Service

    for service in Service.objects.all():
        problem = service_eligibility_problem(
            service=service, age=70, sex="male", borough=borough(), at=AT
        )
        if service.pk in reasons:
            assert problem == reasons[service.pk]
        elif problem is not None:
            assert problem == "closed"


def test_it_leaves_out_services_outside_their_area_but_keeps_those_covering_it(crew_api):
    here = place_service(1.0, covers=[borough("Westminster"), borough("Camden")])
    place_service(1.1, covers=[borough("Camden")])

    assert ids(search(crew_api, category="falls")) == [here.pk]


def test_it_gives_the_same_answer_through_the_function_the_pages_use(db):
    service = place_service(1.0)
    query = search_query_from_params(
        {"lat": str(ORIGIN[0]), "lon": str(ORIGIN[1]), "category": "falls", "at": AT.isoformat()}
    )
    result = service_search(query=query).as_dict()
    assert [r["id"] for r in result["results"]] == [service.pk]
    assert result["count"] == 1


@pytest.mark.parametrize(
    "params,field",
    [
        ({"lat": "51.5"}, "lon"),
        ({"lon": "-0.1"}, "lat"),
        ({}, "postcode"),
        ({"lat": "north", "lon": "-0.1"}, "lat"),
        ({"lat": "91", "lon": "-0.1"}, "lat"),
        ({"lat": "51.5", "lon": "-181"}, "lon"),
        ({"lat": "51.5", "lon": "nan"}, "lon"),
        ({"postcode": "NOT A POSTCODE"}, "postcode"),
        ({"postcode": "ZZ9 9ZZ"}, "postcode"),
        ({"radius_km": "0"}, "radius_km"),
        ({"radius_km": "100.5"}, "radius_km"),
        ({"radius_km": "far"}, "radius_km"),
        ({"category": "astrology"}, "category"),
        ({"age": "-1"}, "age"),
        ({"age": "130"}, "age"),
        ({"age": "forty"}, "age"),
        ({"sex": "robot"}, "sex"),
        ({"at": "yesterday"}, "at"),
        ({"open": "maybe"}, "open"),
        ({"explain": "2"}, "explain"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
    ],
)
def test_it_answers_bad_input_with_400_naming_the_field(crew_api, params, field):
    if "postcode" not in params and field not in ("lat", "lon", "postcode"):
        params = {"lat": "51.5", "lon": "-0.14", **params}
    answer = crew_api.get("/api/v1/services/search/", params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert field in error["fields"]
    assert error["message"]


def test_it_reports_every_bad_field_at_once(crew_api):
    answer = crew_api.get(
        "/api/v1/services/search/", {"lat": "51.5", "lon": "-0.1", "age": "x", "limit": "x"}
    )
    assert set(answer.json()["error"]["fields"]) == {"age", "limit"}


def test_it_reads_an_unencoded_plus_in_the_time_as_a_plus(crew_api):
    place_service(1.0)
    answer = crew_api.get(
        "/api/v1/services/search/?lat=51.501&lon=-0.1416&at=2026-06-10T12:00:00+01:00"
    )
    assert answer.status_code == 200
    assert answer.json()["origin"]["at"] == "2026-06-10T12:00:00+01:00"


def test_it_lets_a_service_beyond_the_nearest_band_above_a_red_one_inside_it(crew_api):
    green_a = place_service(1.0)
    green_b = place_service(2.0)
    place_service(0.5, capacity=Capacity.RED)
    beyond = place_service(4.0)  # second 3 km band, but not RED

    assert ids(search(crew_api, category="falls", limit=3)) == [green_a.pk, green_b.pk, beyond.pk]


def test_it_pages_from_a_full_nearest_band_as_from_the_whole_radius(crew_api):
    near = [place_service(km) for km in (0.5, 1.0, 1.5)]
    place_service(2.5, capacity=Capacity.AMBER)
    place_service(3.5)
    place_service(0.3, hours=[])

    plain = search(crew_api, category="falls", limit=3)
    explained = search(crew_api, category="falls", limit=3, explain="true")

    assert ids(plain) == ids(explained) == [service.pk for service in near]
