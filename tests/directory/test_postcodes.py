import csv

import pytest

from config.errors import DomainError
from directory.models import Borough, Postcode, PostcodeArea
from directory.postcodes import normalise_postcode, place_at, postcode_district, postcode_locate
from tests.factories import borough


@pytest.mark.parametrize(
    "raw,normalised",
    [
        ("sw1a1aa", "SW1A 1AA"),
        (" SW1A  1AA ", "SW1A 1AA"),
        ("ec1a 1bb", "EC1A 1BB"),
        ("W1A0AX", "W1A 0AX"),
        ("m11ae", "M1 1AE"),
        ("B338TH", "B33 8TH"),
        ("cr2 6xh", "CR2 6XH"),
        ("DN551PT", "DN55 1PT"),
        ("GIR0AA", "GIR 0AA"),
    ],
)
def test_it_normalises_uk_postcodes(raw, normalised):
    assert normalise_postcode(raw) == normalised


@pytest.mark.parametrize(
    "raw", ["", "SW1A", "SW1A 1A", "12345", "QW1A 1AA", "SW1A 1AAA", "SW1A 1CA", "hello"]
)
def test_it_rejects_what_is_not_a_postcode(raw):
    assert normalise_postcode(raw) is None


def test_it_knows_the_district_of_a_postcode():
    assert postcode_district("SW1A 1AA") == "SW1A"
    assert postcode_district("E1 6AN") == "E1"


def test_it_locates_a_known_postcode(db):
    Postcode.objects.create(
        postcode="E1 6AN", latitude=51.5202, longitude=-0.0733, borough=borough("Tower Hamlets")
    )
    place = postcode_locate("e16an")
    assert (place.postcode, place.latitude, place.longitude) == ("E1 6AN", 51.5202, -0.0733)
    assert place.borough.name == "Tower Hamlets"


@pytest.mark.parametrize(
    "raw,normalised,sector,borough_name",
    [
        ("SE1 7EH", "SE1 7EH", "SE1 7", "Lambeth"),
        ("se17eh", "SE1 7EH", "SE1 7", "Lambeth"),
        ("E1 1BB", "E1 1BB", "E1 1", "Tower Hamlets"),
        ("HA1 1AA", "HA1 1AA", "HA1 1", "Harrow"),
        ("cr0 1ea", "CR0 1EA", "CR0 1", "Croydon"),
    ],
)
def test_it_places_a_london_postcode_the_table_lacks_at_its_sector_centre(
    db, raw, normalised, sector, borough_name
):
    place = postcode_locate(raw)

    assert place.postcode == normalised
    assert (place.precision, place.area, place.approximate) == ("sector", sector, True)
    assert place.borough.name == borough_name
    assert place.outside_london is False
    assert 51.28 < place.latitude < 51.70 and -0.52 < place.longitude < 0.34


def test_it_puts_the_sector_centre_near_the_postcode_itself(db):
    # SE1 7EH is at 51.4983, -0.1182 (Code-Point Open); its sector's centre is a few
    # hundred metres away.
    place = postcode_locate("SE1 7EH")
    assert abs(place.latitude - 51.4983) < 0.01
    assert abs(place.longitude - -0.1182) < 0.01


def test_it_falls_back_to_the_district_centre_when_the_sector_is_not_held(db):
    place = postcode_locate("HA1 5ZZ")  # HA1 has sectors 1-4 and 9 only

    assert (place.precision, place.area, place.approximate) == ("district", "HA1", True)
    assert place.borough.name == "Harrow"


def test_it_prefers_the_postcodes_own_row_to_its_sector(db):
    Postcode.objects.create(
        postcode="SE1 7EH", latitude=51.4983, longitude=-0.1182, borough=borough("Lambeth")
    )
    place = postcode_locate("SE1 7EH")

    assert (place.latitude, place.longitude) == (51.4983, -0.1182)
    assert (place.precision, place.approximate, place.area) == ("postcode", False, None)


@pytest.mark.parametrize(
    "raw,district", [("M1 1AE", "M1"), ("EH1 1YZ", "EH1"), ("CF10 1EP", "CF10")]
)
def test_it_says_a_postcode_outside_london_is_outside_london(db, raw, district):
    place = postcode_locate(raw)

    assert place.outside_london is True
    assert place.borough is None
    assert place.area == district


def test_it_judges_an_imported_row_without_an_authority_by_its_area(db):
    Postcode.objects.create(postcode="M1 1AE", latitude=53.4809, longitude=-2.2374)
    Postcode.objects.create(postcode="E1 1BB", latitude=51.5188, longitude=-0.0612)

    assert postcode_locate("M1 1AE").outside_london is True
    assert postcode_locate("E1 1BB").borough.name == "Tower Hamlets"


@pytest.mark.parametrize(
    "raw,code",
    [("YY9 9ZZ", "unknown_postcode"), ("E1", "invalid_postcode")],
)
def test_it_refuses_an_unknown_or_malformed_postcode_naming_the_field(db, raw, code):
    with pytest.raises(DomainError) as refused:
        postcode_locate(raw)
    assert refused.value.status_code == 400
    assert refused.value.code == code
    assert "postcode" in refused.value.fields


def test_it_holds_every_area_of_the_shipped_file_with_londons_boroughs_linked(db):
    from pathlib import Path

    from directory.migrations import __file__ as migrations_init

    shipped = Path(migrations_init).parent.parent / "data" / "postcode_areas.csv"
    with shipped.open() as handle:
        rows = list(csv.DictReader(handle))

    assert PostcodeArea.objects.count() == len(rows)
    london = PostcodeArea.objects.filter(borough__isnull=False)
    assert london.filter(kind="sector").count() > 1000
    # Every one of London's 33 authorities has sectors; every district in the file that is
    # mostly in London is linked to its borough.
    assert set(london.values_list("borough", flat=True)) == set(
        Borough.objects.values_list("gss_code", flat=True)
    )
    for row in rows:
        if row["local_authority_code"].startswith("E09"):
            assert (
                PostcodeArea.objects.get(code=row["code"]).borough_id == row["local_authority_code"]
            )


@pytest.mark.parametrize(
    "district",
    [
        "EC1A",
        "WC2N",
        "E1W",
        "N1",
        "NW1",
        "SE1",
        "SW1A",
        "W2",
        "BR1",
        "CR0",
        "DA5",
        "EN1",
        "HA1",
        "IG1",
        "KT1",
        "RM1",
        "SM1",
        "TW1",
        "UB1",
    ],
)
def test_it_holds_londons_outward_codes_and_their_sectors(db, district):
    assert PostcodeArea.objects.filter(code=district, kind="district").exists()
    assert PostcodeArea.objects.filter(code__startswith=f"{district} ", kind="sector").exists()


@pytest.mark.parametrize(
    "point,borough_name",
    [
        ((51.5010, -0.1416), "Westminster"),  # Buckingham Palace
        ((51.5808, -0.3346), "Harrow"),
        ((51.3762, -0.0982), "Croydon"),
        ((51.5152, -0.0656), "Tower Hamlets"),
    ],
)
def test_it_judges_a_points_borough_from_the_nearest_sector_centre(db, point, borough_name):
    place = place_at(*point)
    assert place.borough.name == borough_name
    assert place.outside_london is False


@pytest.mark.parametrize(
    "point", [(53.4808, -2.2426), (55.9533, -3.1883), (51.6565, -0.3903), (48.8566, 2.3522)]
)
def test_it_says_a_point_outside_london_is_outside_london(db, point):
    # Manchester, Edinburgh, Watford (4 km past London's edge), Paris.
    place = place_at(*point)
    assert place.outside_london is True
    assert place.borough is None


def test_it_never_asks_a_geocoder_unless_one_is_configured(db, settings):
    settings.GEOCODER = ""
    with pytest.raises(DomainError):
        postcode_locate("YY9 9ZZ")  # well formed, but no such district


def test_it_asks_for_the_whole_postcode_when_only_its_first_half_is_typed(api_as, crew):
    answer = api_as(crew).get("/api/v1/services/search/", {"postcode": "se1 "})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["fields"] == {
        "postcode": ["Enter the whole postcode, not just SE1 (for example SE1 7EH)."]
    }
