import pytest

from config.errors import DomainError
from directory.models import Postcode
from directory.postcodes import normalise_postcode, postcode_district, postcode_locate
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


@pytest.mark.parametrize("raw,code", [("E1 6AN", "unknown_postcode"), ("E1", "invalid_postcode")])
def test_it_refuses_an_unknown_or_malformed_postcode_naming_the_field(db, raw, code):
    with pytest.raises(DomainError) as refused:
        postcode_locate(raw)
    assert refused.value.status_code == 400
    assert refused.value.code == code
    assert "postcode" in refused.value.fields


def test_it_never_asks_a_geocoder_unless_one_is_configured(db, settings):
    settings.GEOCODER = ""
    with pytest.raises(DomainError):
        postcode_locate("SW1A 1AA")
