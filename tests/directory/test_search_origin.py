"""Where a search starts: real London postcodes, approximate places, outside London, points."""

import pytest

from directory.models import Postcode, SearchLog
from tests.factories import LocationFactory, ServiceFactory, borough, category

SEARCH = "/api/v1/services/search/"
# Near the postcodes the tests search from (Code-Point Open positions).
PLACES = {
    "SE1 7EH": (51.4983, -0.1182),
    "E1 1BB": (51.5188, -0.0612),
    "HA1 1AA": (51.5808, -0.3346),
}


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


def service_at(latitude: float, longitude: float, *, name: str = "", codes=("falls",), **kw):
    location = LocationFactory(latitude=latitude, longitude=longitude)
    return ServiceFactory(
        location=location,
        organisation=location.organisation,
        categories=[category(code) for code in codes],
        **({"name": name} if name else {}),
        **kw,
    )


def emergency_departments():
    return [
        service_at(51.4986, -0.1188, name="St Example's ED", codes=["emergency-department"]),
        service_at(51.5186, -0.0590, name="Royal Example ED", codes=["emergency-department"]),
    ]


@pytest.mark.parametrize(
    "typed,postcode,borough_name",
    [
        ("SE1 7EH", "SE1 7EH", "Lambeth"),
        ("se17eh", "SE1 7EH", "Lambeth"),
        ("E1 1BB", "E1 1BB", "Tower Hamlets"),
        ("HA1 1AA", "HA1 1AA", "Harrow"),
    ],
)
def test_it_finds_services_from_a_real_london_postcode_the_table_lacks(
    crew_api, typed, postcode, borough_name
):
    service = service_at(*PLACES[postcode])

    answer = crew_api.get(SEARCH, {"postcode": typed, "category": "falls"})

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [r["id"] for r in body["results"]] == [service.pk]
    assert body["results"][0]["distance_km"] < 2
    origin = body["origin"]
    assert origin["postcode"] == postcode
    assert origin["borough"]["name"] == borough_name
    assert origin["outside_london"] is False


def test_it_says_a_location_from_a_sector_centre_is_approximate(crew_api):
    answer = crew_api.get(SEARCH, {"postcode": "SE1 7EH"}).json()

    assert answer["origin"]["approximate"] is True
    assert answer["origin"]["precision"] == "sector"
    assert answer["origin"]["area"] == "SE1 7"


def test_it_says_a_postcode_from_the_table_is_exact(crew_api):
    Postcode.objects.create(
        postcode="SE1 7EH", latitude=51.4983, longitude=-0.1182, borough=borough("Lambeth")
    )
    origin = crew_api.get(SEARCH, {"postcode": "SE1 7EH"}).json()["origin"]

    assert (origin["approximate"], origin["precision"]) == (False, "postcode")
    assert (origin["lat"], origin["lon"]) == (51.4983, -0.1182)


@pytest.mark.parametrize("postcode", ["M1 1AE", "EH1 1YZ", "CF10 1EP"])
def test_it_says_a_postcode_is_outside_london_and_gives_the_nearest_eds(crew_api, postcode):
    st_example, royal_example = emergency_departments()

    answer = crew_api.get(SEARCH, {"postcode": postcode, "category": "falls"})

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["origin"]["outside_london"] is True
    assert body["origin"]["borough"] is None
    assert body["count"] == 0
    assert {f["id"] for f in body["fallback"]} == {st_example.pk, royal_example.pk}
    assert all(f["distance_km"] > 60 for f in body["fallback"])


def test_it_says_coordinates_are_outside_london_and_gives_the_nearest_eds(crew_api):
    emergency_departments()

    body = crew_api.get(SEARCH, {"lat": 53.4808, "lon": -2.2426}).json()  # Manchester

    assert body["origin"]["outside_london"] is True
    assert body["origin"]["postcode"] is None
    assert len(body["fallback"]) == 2


def test_it_names_coordinates_by_themselves_and_judges_their_borough_from_the_point(crew_api):
    # A postcode row 600 m away that claims Camden: the point's own area says Westminster.
    Postcode.objects.create(
        postcode="W9 5TF", latitude=51.5050, longitude=-0.1470, borough=borough("Camden")
    )
    service_at(51.5020, -0.1400)

    body = crew_api.get(SEARCH, {"lat": 51.5010, "lon": -0.1416, "category": "falls"}).json()

    origin = body["origin"]
    assert origin["postcode"] is None
    assert origin["label"] == "51.5010, -0.1416"
    assert origin["borough"]["name"] == "Westminster"
    assert origin["precision"] == "coordinates"
    assert body["count"] == 1
    assert SearchLog.objects.get().borough.name == "Westminster"


@pytest.mark.parametrize(
    "params,field",
    [({"postcode": "not a postcode"}, "postcode"), ({"postcode": "YY9 9ZZ"}, "postcode")],
)
def test_it_refuses_an_unknown_or_invalid_postcode_naming_the_field(crew_api, params, field):
    answer = crew_api.get(SEARCH, params)

    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]
    assert SearchLog.objects.count() == 0
