"""Reports API: who may read it, its formats (json, csv, xlsx) and its refusals."""

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from directory.models import Organisation
from referrals.demo import fictional_referral, save_backdated
from referrals.models import DeclineReason, Status
from tests.factories import TEST_PASSWORD, OrganisationFactory, ServiceFactory

REFERRALS = "/api/v1/reports/referrals/"
ROWS = "/api/v1/reports/referrals/rows/"
GAPS = "/api/v1/reports/gaps/"


@pytest.fixture
def referred(db):
    """Three referrals in the week of Monday 2 June 2025 into one falls service."""
    rng = random.Random(3)
    service = ServiceFactory(name="Westminster Falls")
    referrer = OrganisationFactory(kind=Organisation.Kind.AMBULANCE_TRUST)
    at = datetime(2025, 6, 3, 9, tzinfo=UTC)
    made = [
        fictional_referral(
            rng=rng,
            service=service,
            referring_organisation=referrer,
            created_at=at,
            status=Status.ACCEPTED,
            acknowledged_after=timedelta(minutes=10),
            answered_after=timedelta(minutes=30),
        ),
        fictional_referral(
            rng=rng,
            service=service,
            referring_organisation=referrer,
            created_at=at,
            status=Status.DECLINED,
            acknowledged_after=timedelta(minutes=20),
            answered_after=timedelta(minutes=25),
            decline_reason=DeclineReason.NO_CAPACITY,
        ),
        fictional_referral(
            rng=rng, service=service, referring_organisation=referrer, created_at=at
        ),
    ]
    return save_backdated(made)


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_it_answers_json_by_default(api_as, operator, referred):
    # An operator: exact counts (planners see counts under 5 as "<5", test_report_privacy).
    answer = api_as(operator).get(REFERRALS, {"from": "2025-06-02", "to": "2025-06-08"})

    assert answer.status_code == 200
    body = answer.json()
    assert body["group_by"] == "week"
    assert body["rows"] == [
        {
            "key": "2025-06-02",
            "label": "w/c 2 Jun 2025",
            "referrals": 3,
            "open": 1,
            "accepted": 1,
            "completed": 0,
            "declined": 1,
            "cancelled": 0,
            "expired": 0,
            "acceptance_rate": 0.5,
            "acknowledge_median_minutes": 15.0,
            "acknowledge_p90_minutes": 19.0,
            "accept_median_minutes": 30.0,
            "accept_p90_minutes": 30.0,
        }
    ]


@pytest.mark.parametrize(
    ("group_by", "first_key"),
    [
        ("ics", "NWL"),
        ("category", "falls"),
        ("decline_reason", "no_capacity"),
        ("day", "2025-06-03"),
    ],
)
def test_it_groups_as_asked(api_as, operator, referred, group_by, first_key):
    answer = api_as(operator).get(
        REFERRALS, {"group_by": group_by, "from": "2025-06-03", "to": "2025-06-03"}
    )

    assert answer.status_code == 200
    assert answer.json()["rows"][0]["key"] == first_key


def test_it_streams_csv(api_as, operator, referred):
    answer = api_as(operator).get(REFERRALS, {"group_by": "ics", "format": "csv"})

    assert answer.status_code == 200
    assert answer.streaming
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = read_csv(answer)
    assert rows[0][:4] == ["key", "label", "referrals", "open"]
    assert rows[1][:3] == ["NWL", "North West London", "3"]


def test_it_sends_xlsx(api_as, planner, referred):
    answer = api_as(planner).get(GAPS + "?format=xlsx")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True)
    header = next(workbook.active.iter_rows(values_only=True))
    assert header[:2] == ("borough", "borough_name")


def test_it_streams_the_row_level_extract_as_json(api_as, planner, referred):
    answer = api_as(planner).get(ROWS, {"from": "2025-06-01", "to": "2025-06-30", "format": "json"})

    assert answer.status_code == 200
    body = json.loads(b"".join(answer.streaming_content))
    assert body["columns"][:3] == ["pseudonym", "iso_week", "ics"]
    assert sorted(row[7] for row in body["rows"]) == ["accepted", "declined", "open"]
    assert {row[1] for row in body["rows"]} == {"2025-W23"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-13-01"}, "from"),
        ({"to": "soon"}, "to"),
        ({"group_by": "colour"}, "group_by"),
        ({"format": "pdf"}, "format"),
        ({"ics": "ABC"}, "ics"),
    ],
)
def test_it_refuses_bad_parameters_naming_the_field(api_as, planner, params, field):
    answer = api_as(planner).get(REFERRALS, params)

    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


@pytest.mark.parametrize("url", [REFERRALS, ROWS, GAPS])
@pytest.mark.parametrize("user", ["crew", "partner"])
def test_it_refuses_crews_and_partners(db, api_as, request, url, user):
    for fmt in ("json", "csv", "xlsx"):
        answer = api_as(request.getfixturevalue(user)).get(url, {"format": fmt})
        assert answer.status_code == 403


@pytest.mark.parametrize("url", [REFERRALS, ROWS, GAPS])
def test_it_asks_anonymous_callers_to_authenticate(db, url):
    answer = APIClient().get(url, {"format": "csv"})

    assert answer.status_code == 401


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_it_serves_every_format_to_a_real_token(planner, referred, fmt):
    token = (
        APIClient()
        .post(
            "/api/v1/auth/token/",
            {"username": planner.username, "password": TEST_PASSWORD},
            format="json",
        )
        .json()["token"]
    )
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")

    for url in (REFERRALS, ROWS, GAPS):
        answer = client.get(url, {"format": fmt})
        assert answer.status_code == 200, (url, fmt)
        body = b"".join(answer.streaming_content) if answer.streaming else answer.content
        assert body
