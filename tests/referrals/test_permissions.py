"""Who may do what to which referral: the role and organisation matrix for every route.

People: the referring crew, a crew of another trust, the receiving partner, a partner of
another provider, a planner and an operator. A referral someone may not see answers 404
(they never learn it exists); one they see but may not act on answers 403.
"""

import uuid

import pytest
from rest_framework.test import APIClient

from referrals.models import Referral, ReferralEvent, Status
from tests.referrals.factories import referral_body, referral_in

URL = "/api/v1/referrals/"
PEOPLE = ["crew", "other_crew", "partner", "other_partner", "planner", "operator"]

# route -> (status the referral must be in, body, {person: expected status code})
ACTIONS = {
    "acknowledge": (Status.SENT, {}, {"partner": 200, "operator": 200, "crew": 403}),
    "accept": (Status.ACKNOWLEDGED, {}, {"partner": 200, "operator": 200, "crew": 403}),
    "decline": (
        Status.SENT,
        {"reason_code": "other", "note": "n"},
        {"partner": 200, "operator": 200, "crew": 403},
    ),
    "complete": (
        Status.ACCEPTED,
        {"outcome": "ok"},
        {"partner": 200, "operator": 200, "crew": 403},
    ),
    "cancel": (Status.SENT, {"reason": "r"}, {"crew": 200, "operator": 200, "partner": 403}),
}
READS = {"": {"crew": 200, "partner": 200, "operator": 200}}
READS["events/"] = READS[""]


@pytest.fixture
def people(crew, other_crew, partner, other_partner, planner, operator):
    return {
        "crew": crew,
        "other_crew": other_crew,
        "partner": partner,
        "other_partner": other_partner,
        "planner": planner,
        "operator": operator,
    }


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_is_only_for_the_party_that_may_take_it(
    api_as, people, service, action, person
):
    status, body, allowed = ACTIONS[action]
    referral = referral_in(status, crew=people["crew"], partner=people["partner"], service=service)
    events = ReferralEvent.objects.count()

    answer = api_as(people[person]).post(f"{URL}{referral.pk}/{action}/", body, format="json")

    expected = allowed.get(person, 404)
    assert answer.status_code == expected, answer.json()
    if expected != 200:
        assert Referral.objects.get(pk=referral.pk).status == status
        assert ReferralEvent.objects.count() == events


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("suffix", list(READS))
def test_each_read_is_only_for_the_two_organisations_and_operators(
    api_as, people, service, suffix, person
):
    referral = referral_in(
        Status.SENT, crew=people["crew"], partner=people["partner"], service=service
    )
    answer = api_as(people[person]).get(f"{URL}{referral.pk}/{suffix}")
    assert answer.status_code == READS[suffix].get(person, 404)
    if answer.status_code == 404:
        assert "Ada" not in answer.content.decode()


@pytest.mark.parametrize(
    ("person", "sees"),
    [
        ("crew", {"mine"}),
        ("other_crew", {"theirs"}),
        ("partner", {"mine", "theirs"}),
        ("other_partner", set()),
        ("operator", {"mine", "theirs"}),
    ],
)
def test_the_list_shows_each_person_only_their_referrals(api_as, people, service, person, sees):
    mine = referral_in(Status.SENT, crew=people["crew"], partner=people["partner"], service=service)
    theirs = referral_in(
        Status.SENT, crew=people["other_crew"], partner=people["partner"], service=service
    )
    names = {str(mine.pk): "mine", str(theirs.pk): "theirs"}
    answer = api_as(people[person]).get(URL)
    assert answer.status_code == 200
    assert {names[r["id"]] for r in answer.json()["results"]} == sees


def test_planners_may_not_list_referrals(api_as, planner):
    answer = api_as(planner).get(URL)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("crew", 201),
        ("other_crew", 201),
        ("partner", 403),
        ("other_partner", 403),
        ("planner", 403),
        ("operator", 403),
    ],
)
def test_only_crews_may_refer(api_as, people, service, person, expected):
    answer = api_as(people[person]).post(
        URL, referral_body(service), format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    assert answer.status_code == expected
    assert Referral.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("post", ""),
        ("get", "{id}/"),
        ("get", "{id}/events/"),
        ("post", "{id}/accept/"),
    ],
)
def test_strangers_are_asked_to_log_in(db, method, suffix):
    path = URL + suffix.format(id=uuid.uuid4())
    answer = getattr(APIClient(), method)(path, {}, format="json")
    assert answer.status_code == 401


def test_an_unknown_referral_is_not_found(api_as, operator):
    answer = api_as(operator).get(f"{URL}{uuid.uuid4()}/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    answer = api_as(operator).post(f"{URL}{uuid.uuid4()}/accept/", {}, format="json")
    assert answer.status_code == 404
