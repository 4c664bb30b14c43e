"""The directory as Open Referral HSDS 3.0: public, read-only, paged, filtered, stable ids."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from directory.hsds.taxonomy import category_term_id
from directory.models import OpeningException, Postcode, Service
from tests.directory.search_helpers import ORIGIN, place_service
from tests.factories import OrganisationFactory, ServiceFactory, borough, category

PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


@pytest.fixture
def hsds():
    return APIClient()  # nobody signed in: the feed is public


def get(client, path, **params):
    answer = client.get(path, params)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_it_says_which_hsds_version_it_speaks_to_any_origin(hsds, db):
    answer = hsds.get("/hsds/")
    assert answer.status_code == 200
    assert answer.json()["version"] == "3.0"
    assert answer["Access-Control-Allow-Origin"] == "*"


def test_it_pages_services_with_hsds_page_fields(hsds, db):
    for name in ("Alder", "Birch", "Cedar"):
        ServiceFactory(name=name)

    first = get(hsds, "/hsds/services", per_page=2)
    assert set(first) == PAGE_KEYS
    assert (first["total_items"], first["total_pages"], first["page_number"]) == (3, 2, 1)
    assert (first["size"], first["first_page"], first["last_page"], first["empty"]) == (
        2,
        True,
        False,
        False,
    )
    assert [s["name"] for s in first["contents"]] == ["Alder", "Birch"]

    second = get(hsds, "/hsds/services", per_page=2, page=2)
    assert [s["name"] for s in second["contents"]] == ["Cedar"]
    assert second["last_page"] and not second["first_page"]

    beyond = get(hsds, "/hsds/services", per_page=2, page=3)
    assert beyond["empty"] and beyond["contents"] == []


def test_it_filters_services_by_taxonomy_term_organisation_text_and_modification(hsds, db):
    falls = ServiceFactory(name="Falls pick-up", categories=[category("falls")])
    owner = OrganisationFactory()
    other = ServiceFactory(
        name="Crisis café", organisation=owner, categories=[category("mental-health-crisis")]
    )
    Service.objects.filter(pk=falls.pk).update(updated_at=timezone.now() - timedelta(days=3))

    def names(**params):
        return [s["name"] for s in get(hsds, "/hsds/services", **params)["contents"]]

    assert names(taxonomy_term_id=category_term_id("falls")) == ["Falls pick-up"]
    assert names(organization_id=str(owner.uuid)) == ["Crisis café"]
    assert names(search="crisis") == ["Crisis café"]
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()
    assert names(modified_after=yesterday) == [other.name]


def test_it_refuses_bad_filters_naming_the_parameter(hsds, db):
    for params, field in (
        ({"per_page": 0}, "per_page"),
        ({"page": "two"}, "page"),
        ({"taxonomy_term_id": "falls"}, "taxonomy_term_id"),
        ({"modified_after": "last week"}, "modified_after"),
        ({"postcode": "SW1A 1AA"}, "proximity"),
    ):
        answer = hsds.get("/hsds/services", params)
        assert answer.status_code == 400, params
        assert field in answer.json()["error"]["fields"]
        assert answer["Access-Control-Allow-Origin"] == "*"


def test_it_answers_a_full_service_record(hsds, db):
    service = ServiceFactory(
        name="Alpha Falls Response",
        phone="020 7946 0000",
        professional_phone="020 7946 0999",
        min_age=65,
        max_age=None,
        sexes=["female"],
        inclusion_criteria="Fallen, uninjured",
        hours=[(0, "08:00", "20:00"), (5, "22:00", "06:00")],
    )
    service.boroughs_covered.set([borough("Westminster")])
    OpeningException.objects.create(service=service, date=date(2026, 12, 25), closed=True)
    OpeningException.objects.create(
        service=service, date=date(2026, 12, 26), closed=False, opens=time(10), closes=time(14)
    )

    record = get(hsds, f"/hsds/services/{service.uuid}")

    assert record["id"] == str(service.uuid)
    assert record["organization"]["id"] == str(service.organisation.uuid)
    assert record["organization"]["organization_identifiers"][0]["identifier"] == (
        service.organisation.ods_code
    )
    (at_location,) = record["service_at_locations"]
    assert at_location["location"]["id"] == str(service.location.uuid)
    assert at_location["location"]["latitude"] == service.location.latitude
    assert at_location["location"]["addresses"][0]["postal_code"] == service.location.postcode
    weekly = [s for s in record["schedules"] if s["freq"] == "WEEKLY"]
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in weekly] == [
        ("MO", "08:00", "20:00"),
        ("SA", "22:00", "06:00"),
    ]
    dated = {s["valid_from"]: s for s in record["schedules"] if s["freq"] is None}
    assert dated["2026-12-25"]["valid_to"] == "2026-12-25"
    assert dated["2026-12-25"]["opens_at"] is None
    assert (dated["2026-12-26"]["opens_at"], dated["2026-12-26"]["closes_at"]) == ("10:00", "14:00")
    assert [p["number"] for p in record["phones"]] == ["020 7946 0000"]
    assert (record["minimum_age"], record["maximum_age"]) == (65, None)
    assert "female" in record["eligibility_description"]
    assert "Fallen, uninjured" in record["eligibility_description"]
    assert [a["taxonomy_term"]["code"] for a in record["attributes"]][0] == "falls"
    assert record["service_areas"][0]["name"] == "Westminster"


def test_it_never_publishes_capacity_professional_phones_or_referrals(hsds, db):
    service = ServiceFactory(professional_phone="020 7946 0999", capacity_slots=3)
    bodies = [
        hsds.get(f"/hsds/services/{service.uuid}").content.decode(),
        hsds.get("/hsds/services", {"full": "true"}).content.decode(),
        hsds.get("/hsds/service_at_locations").content.decode(),
    ]
    for body in bodies:
        assert "020 7946 0999" not in body
        assert "GREEN" not in body
        assert "capacity" not in body
        assert "referral_id" not in body


def test_it_keeps_ids_stable_between_reads(hsds, db):
    service = ServiceFactory()
    first = get(hsds, f"/hsds/services/{service.uuid}")
    again = get(hsds, f"/hsds/services/{service.uuid}")
    assert first == again
    assert {s["id"] for s in first["schedules"]} == {s["id"] for s in again["schedules"]}
    assert first["service_at_locations"][0]["id"] == again["service_at_locations"][0]["id"]


def test_it_answers_404_in_the_error_shape_for_an_unknown_service(hsds, db):
    answer = hsds.get("/hsds/services/00000000-0000-4000-8000-000000000000")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_it_lists_minimal_and_full_forms(hsds, db):
    ServiceFactory()
    minimal = get(hsds, "/hsds/services", minimal="true")["contents"][0]
    full = get(hsds, "/hsds/services", full="true")["contents"][0]
    assert "schedules" not in minimal and "organization" not in minimal
    assert full["schedules"] and full["service_at_locations"]


def test_it_finds_services_at_locations_within_a_distance_of_a_postcode(hsds, db):
    Postcode.objects.create(
        postcode="SW1A 1AA", latitude=ORIGIN[0], longitude=ORIGIN[1], borough=borough()
    )
    near = place_service(1.0)
    further = place_service(2.0)
    place_service(5.0)

    answer = get(hsds, "/hsds/service_at_locations", postcode="sw1a1aa", proximity=2500)

    assert [r["service_id"] for r in answer["contents"]] == [str(near.uuid), str(further.uuid)]
    assert answer["total_items"] == 2
    # 1 km and 2 km along the geodesic; a sphere is within 0.5% of it here.
    assert answer["contents"][0]["distance"] == pytest.approx(1000, rel=0.005)
    assert answer["contents"][1]["distance"] == pytest.approx(2000, rel=0.005)
    assert answer["contents"][0]["location"]["id"] == str(near.location.uuid)

    within_1500 = get(hsds, "/hsds/service_at_locations", postcode="SW1A 1AA", proximity=1500)
    assert [r["service_id"] for r in within_1500["contents"]] == [str(near.uuid)]


def test_it_refuses_an_unknown_postcode(hsds, db):
    answer = hsds.get("/hsds/service_at_locations", {"postcode": "ZZ9 9ZZ", "proximity": 500})
    assert answer.status_code == 400
    assert "postcode" in answer.json()["error"]["fields"]


def test_it_lists_organisations_and_one_with_its_services(hsds, db):
    service = ServiceFactory(name="Only service")
    listed = get(hsds, "/hsds/organizations", search=service.organisation.name)
    assert [o["id"] for o in listed["contents"]] == [str(service.organisation.uuid)]
    one = get(hsds, f"/hsds/organizations/{service.organisation.uuid}")
    assert [s["name"] for s in one["services"]] == ["Only service"]


def test_it_lists_taxonomies_and_terms_for_every_category(hsds, db):
    taxonomies = get(hsds, "/hsds/taxonomies")["contents"]
    categories = next(t for t in taxonomies if t["name"] == "frontdoor-categories")
    terms = get(hsds, "/hsds/taxonomy_terms", taxonomy_id=categories["id"], per_page=200)
    codes = {t["code"] for t in terms["contents"]}
    assert "falls" in codes
    falls = next(t for t in terms["contents"] if t["code"] == "falls")
    assert falls["id"] == category_term_id("falls")


def test_it_is_read_only(hsds, db):
    assert hsds.post("/hsds/services", {}, format="json").status_code == 405
