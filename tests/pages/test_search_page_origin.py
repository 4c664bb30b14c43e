"""The search page from real London postcodes, from outside London, and from coordinates."""

import pytest

from tests.factories import LocationFactory, ServiceFactory, category


def _search(client, **params):
    return client.get("/search/", {"searched": "1", "open": "on", **params})


def _service_at(latitude, longitude, name, code="falls"):
    location = LocationFactory(latitude=latitude, longitude=longitude)
    return ServiceFactory(
        location=location,
        organisation=location.organisation,
        name=name,
        categories=[category(code)],
    )


@pytest.mark.parametrize(
    "typed,point",
    [
        ("SE1 7EH", (51.4983, -0.1182)),
        ("se17eh", (51.4983, -0.1182)),
        ("E1 1BB", (51.5188, -0.0612)),
        ("HA1 1AA", (51.5808, -0.3346)),
    ],
)
def test_it_finds_services_from_a_real_london_postcode_and_says_the_place_is_approximate(
    as_user, crew, typed, point
):
    _service_at(*point, "Riverside Falls Team")

    answer = _search(as_user(crew), postcode=typed)
    page = answer.content.decode()

    assert answer.status_code == 200
    assert "We do not know this postcode" not in page
    assert "Riverside Falls Team" in page
    assert "1 service near " in page
    assert "Location approximate" in page
    assert "centre of postcode sector" in page


def test_it_says_a_postcode_outside_london_is_outside_london_and_lists_the_nearest_eds(
    as_user, crew
):
    _service_at(51.4986, -0.1188, "St Example's ED", code="emergency-department")

    page = _search(as_user(crew), postcode="M1 1AE").content.decode()

    assert "Outside London" in page
    assert "M1 1AE is outside London" in page
    assert "St Example&#x27;s ED" in page
    assert "No service fits" not in page


def test_it_says_coordinates_outside_london_are_outside_london(as_user, crew):
    _service_at(51.4986, -0.1188, "St Example's ED", code="emergency-department")

    page = _search(as_user(crew), lat="55.9533", lon="-3.1883").content.decode()

    assert "55.9533, -3.1883 is outside London" in page
    assert "St Example&#x27;s ED" in page


def test_it_names_a_search_by_coordinates_by_the_point_and_its_borough(as_user, crew, postcode):
    _service_at(51.5020, -0.1400, "Palace Falls Team")

    page = _search(as_user(crew), lat="51.5011", lon="-0.1417").content.decode()

    assert "1 service near 51.5011, -0.1417 (Westminster)" in page
    assert "Location approximate" not in page


def test_it_says_a_district_centre_is_further_out_than_a_sector_centre(as_user, crew):
    page = _search(as_user(crew), postcode="HA1 5ZZ").content.decode()  # no sector HA1 5

    assert "centre of postcode district HA1 (Harrow)" in page
    assert "a few kilometres" in page
