"""Exports carry no patient identifiers; XLSX matches CSV; export_referrals writes the file."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from directory.models import Organisation
from referrals.demo import seed_activity
from referrals.models import Referral
from referrals.nhs_number import nhs_number_is_valid
from reports.exports import safe_cell
from reports.selectors import GROUP_BY_CHOICES
from tests.factories import LocationFactory, OrganisationFactory, ServiceFactory, borough, category

GROUPINGS = GROUP_BY_CHOICES


@pytest.fixture
def activity(db):
    """Demo activity (fictional patients) in two services, as seed_demo makes it."""
    OrganisationFactory(name="Test Ambulance", kind=Organisation.Kind.AMBULANCE_TRUST)
    ServiceFactory(name="Westminster Falls", categories=[category("falls"), category("frailty")])
    lambeth = OrganisationFactory(name="Lambeth Crisis Trust", borough=borough("Lambeth"))
    ServiceFactory(
        name="Lambeth Crisis Cafe",
        organisation=lambeth,
        location=LocationFactory(organisation=lambeth, borough=borough("Lambeth")),
        categories=[category("mental-health-crisis")],
    )
    seed_activity(referrals=150, searches=80)
    return list(Referral.objects.all())


def identifiers(referrals) -> set[str]:
    """Every way a seeded patient's identifiers could be written out."""
    found = set()
    for r in referrals:
        found |= {
            f"{r.given_name} {r.family_name}",
            r.family_name,
            r.nhs_number,
            f"{r.nhs_number[:3]} {r.nhs_number[3:6]} {r.nhs_number[6:]}",
            r.date_of_birth.isoformat(),
            r.date_of_birth.strftime("%d/%m/%Y"),
            r.phone,
            r.phone.replace(" ", ""),
            r.postcode,
            r.address,
            r.summary,
            r.presenting_complaint,
        }
        if r.decline_note:
            found.add(r.decline_note)
    return found


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def xlsx_text(data: bytes) -> str:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(
        "\t".join("" if value is None else str(value) for value in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def every_export(client):
    urls = [f"/api/v1/reports/referrals/?group_by={name}" for name in GROUPINGS]
    urls += ["/api/v1/reports/referrals/rows/?", "/api/v1/reports/gaps/?"]
    for url in urls:
        for fmt in ("json", "csv", "xlsx"):
            response = client.get(f"{url}&format={fmt}")
            assert response.status_code == 200, (url, fmt)
            data = body_of(response)
            yield (url, fmt), xlsx_text(data) if fmt == "xlsx" else data.decode()


def test_the_demo_patients_are_fictional(activity):
    assert len(activity) == 150
    assert all(
        r.nhs_number.startswith("999") and nhs_number_is_valid(r.nhs_number) for r in activity
    )
    assert all(r.phone.startswith("07700 900") and r.postcode.startswith("ZZ99") for r in activity)


def test_no_export_carries_a_patient_identifier(activity, api_as, planner):
    secrets = identifiers(activity)
    scanned = 0

    for name, text in every_export(api_as(planner)):
        leaked = sorted(secret for secret in secrets if secret in text)
        assert not leaked, (name, leaked[:5])
        scanned += 1

    assert scanned == (len(GROUPINGS) + 2) * 3
    # The page and its charts neither.
    page = api_as(planner).get("/reports/?from=2000-01-01").content.decode()
    assert not [secret for secret in secrets if secret in page]


def test_the_extract_has_one_pseudonymous_row_per_referral(activity, api_as, planner):
    first = body_of(api_as(planner).get("/api/v1/reports/referrals/rows/?format=csv"))
    rows = list(csv.DictReader(io.StringIO(first.decode())))

    assert len(rows) == len(activity)
    assert len({row["pseudonym"] for row in rows}) == len(activity)
    assert not {str(r.pk) for r in activity} & {row["pseudonym"] for row in rows}
    again = api_as(planner).get("/api/v1/reports/referrals/rows/?format=csv")
    assert body_of(again) == first  # stable pseudonyms


def normalised(value):
    """One cell as either file holds it: numbers as numbers, dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return float(value)
    except ValueError:
        return value


def sheet_rows(sheet) -> list[list]:
    """A sheet's rows, normalised; empty trailing cells (dropped on reading) put back."""
    rows = [[normalised(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    width = len(rows[0])
    return [row + [""] * (width - len(row)) for row in rows]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/referrals/rows/",
        "/api/v1/reports/referrals/?group_by=week",
        "/api/v1/reports/referrals/?group_by=outcome",
        "/api/v1/reports/gaps/",
    ],
)
def test_the_xlsx_holds_what_the_csv_holds(activity, api_as, planner, url):
    join = "&" if "?" in url else "?"
    as_csv = body_of(api_as(planner).get(f"{url}{join}format=csv")).decode()
    as_xlsx = body_of(api_as(planner).get(f"{url}{join}format=xlsx"))

    sheet = load_workbook(io.BytesIO(as_xlsx), read_only=True).active
    from_xlsx = sheet_rows(sheet)
    from_csv = [[normalised(v) for v in row] for row in csv.reader(io.StringIO(as_csv))]
    assert len(from_csv) > 1
    assert from_xlsx == from_csv


def test_it_quotes_text_a_spreadsheet_would_run(db):
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("Falls team") == "Falls team"
    assert safe_cell(-3) == -3


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_referrals_writes_the_extract(activity, api_as, planner, tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    out = io.StringIO()

    call_command(
        "export_referrals",
        "--from",
        "2000-01-01",
        "--format",
        fmt,
        "--output",
        str(target),
        "--no-progress",
        stdout=out,
    )

    assert f"Wrote {len(activity)} referral(s)" in out.getvalue()
    # The API caps the extract at a year (the operators' command does not): the activity fits.
    since = (timezone.localdate() - timedelta(days=300)).isoformat()
    from_api = body_of(
        api_as(planner).get("/api/v1/reports/referrals/rows/", {"from": since, "format": "csv"})
    ).decode()
    if fmt == "csv":
        assert target.read_bytes().decode() == from_api
    else:
        rows = sheet_rows(load_workbook(target, read_only=True).active)
        assert rows == [[normalised(v) for v in row] for row in csv.reader(io.StringIO(from_api))]


def test_export_referrals_refuses_a_bad_date(db, tmp_path):
    with pytest.raises(CommandError, match="from"):
        call_command("export_referrals", "--from", "June", "--output", str(tmp_path / "x.csv"))


def test_seed_activity_runs_once(activity):
    seed_activity()

    assert Referral.objects.count() == len(activity)


def test_the_demo_referrals_carry_their_events(activity):
    for referral in activity[:40]:
        events = list(referral.events.order_by("created_at", "id"))
        assert events[0].to_status == "sent"
        assert events[-1].to_status == referral.status
        assert all(e.created_at >= referral.created_at for e in events)
