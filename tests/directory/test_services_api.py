import pytest

from directory.models import OpeningException
from tests.directory.search_helpers import place_service
from tests.factories import LocationFactory, OrganisationFactory, ServiceFactory, borough, category


@pytest.fixture
def crew_api(api_as, crew):
    return api_as(crew)


def _names(answer):
    assert answer.status_code == 200, answer.content
    return sorted(item["name"] for item in answer.json()["results"])


def test_it_lists_services_page_by_page(crew_api):
    for n in range(3):
        ServiceFactory(name=f"Service {n}")
    first = crew_api.get("/api/v1/services/", {"page_size": 2}).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"]
    second = crew_api.get(first["next"]).json()
    assert len(second["results"]) == 1


def test_it_filters_by_category_borough_ics_organisation_and_words(crew_api):
    camden_org = OrganisationFactory()
    ServiceFactory(name="Falls Westminster", categories=[category("falls")])
    ServiceFactory(
        name="Crisis Camden",
        organisation=camden_org,
        location=LocationFactory(borough=borough("Camden"), organisation=camden_org),
        categories=[category("mental-health-crisis")],
        description="Crisis cafe open late",
    )

    assert _names(crew_api.get("/api/v1/services/", {"category": "falls"})) == ["Falls Westminster"]
    assert _names(crew_api.get("/api/v1/services/", {"borough": "camden"})) == ["Crisis Camden"]
    assert _names(crew_api.get("/api/v1/services/", {"borough": "E09000007"})) == ["Crisis Camden"]
    assert _names(crew_api.get("/api/v1/services/", {"ics": "NCL"})) == ["Crisis Camden"]
    assert _names(crew_api.get("/api/v1/services/", {"organisation": camden_org.pk})) == [
        "Crisis Camden"
    ]
    assert _names(crew_api.get("/api/v1/services/", {"q": "cafe"})) == ["Crisis Camden"]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"category": "astrology"}, "category"),
        ({"borough": "atlantis"}, "borough"),
        ({"ics": "XXX"}, "ics"),
        ({"organisation": "abc"}, "organisation"),
        ({"organisation": "999999"}, "organisation"),
    ],
)
def test_it_refuses_a_bad_filter_naming_it(crew_api, params, field):
    answer = crew_api.get("/api/v1/services/", params)
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


def test_it_shows_staff_the_professional_details_and_hours(crew_api):
    service = ServiceFactory(
        professional_phone="020 7946 0123",
        referral_instructions="Call before sending.",
        hours=[(0, "09:00", "17:00")],
    )
    OpeningException.objects.create(service=service, date="2026-12-25", closed=True)

    detail = crew_api.get(f"/api/v1/services/{service.pk}/").json()

    assert detail["professional_phone"] == "020 7946 0123"
    assert detail["referral_instructions"] == "Call before sending."
    assert detail["opening_hours"] == [{"weekday": 0, "opens": "09:00", "closes": "17:00"}]
    assert detail["organisation"]["name"] == service.organisation.name
    assert detail["location"]["ics"] == "NWL"


def test_it_answers_an_unknown_service_with_404(crew_api):
    answer = crew_api.get("/api/v1/services/999999/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_it_hides_inactive_services_from_crews_in_the_list(crew_api):
    place_service(1.0, name="Live")
    place_service(1.0, name="Retired", active=False)
    assert _names(crew_api.get("/api/v1/services/")) == ["Live"]


def test_it_needs_authentication(client):
    assert client.get("/api/v1/services/").status_code == 401
