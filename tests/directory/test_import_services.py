"""import_services: a services CSV goes in row by row; bad rows are named, good rows go in."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from directory.models import Organisation, Service, ServiceSearchEntry
from tests.directory.search_helpers import ORIGIN, point, search

HEADER = (
    "service_id,name,categories,organisation_ods,organisation_name,organisation_kind,"
    "address,postcode,latitude,longitude,borough,phone,min_age,sexes,boroughs_covered,"
    "hours,exceptions\n"
)


def row(service_id, name="Falls pick-up", categories="falls", km=1.0, **cells) -> str:
    latitude, longitude = point(km)
    values = {
        "service_id": service_id,
        "name": name,
        "categories": categories,
        "organisation_ods": "ZX001",
        "organisation_name": "Zed Community Trust",
        "organisation_kind": "nhs_trust",
        "address": "1 Example Street",
        "postcode": "SW1A 1AA",
        "latitude": f"{latitude:.6f}",
        "longitude": f"{longitude:.6f}",
        "borough": "Westminster",
        "phone": "020 7946 0001",
        "min_age": "",
        "sexes": "",
        "boroughs_covered": "",
        "hours": "Mon-Sun 00:00-00:00",
        "exceptions": "",
        **cells,
    }
    return ",".join(f'"{v}"' for v in values.values()) + "\n"


def run(tmp_path, text, *extra) -> str:
    path = tmp_path / "services.csv"
    path.write_text(text)
    out = StringIO()
    call_command("import_services", str(path), *extra, stdout=out, stderr=StringIO())
    return out.getvalue()


GOOD_AND_BAD = (
    HEADER
    + row("FALLS-1", hours="Mon-Fri 08:00-20:00; Sat 22:00-06:00", exceptions="2026-12-25 closed")
    + row("BAD-CATEGORY", name="Juggling", categories="juggling")
    + row("CRISIS-1", name="Crisis café", categories="mental-health-crisis", km=2.0, sexes="female")
    + row("BAD-HOURS", name="Sometimes", hours="Mondays 9-5")
    + row("NO-POSTCODE", name="Nowhere", postcode="")
)


def test_it_imports_good_rows_and_names_each_bad_row_by_line(tmp_path, db):
    out = run(tmp_path, GOOD_AND_BAD)

    assert "created 2, updated 0, unchanged 0, rejected 3" in out
    assert "rejected line 3: unknown category 'juggling'" in out
    assert "rejected line 5: hours: 'Mondays 9-5'" in out
    assert "rejected line 6: postcode is empty" in out
    assert sorted(Service.objects.values_list("name", flat=True)) == [
        "Crisis café",
        "Falls pick-up",
    ]
    falls = Service.objects.get(name="Falls pick-up")
    assert falls.organisation.ods_code == "ZX001"
    assert falls.location.borough_id == "E09000033"
    assert falls.opening_spans.count() == 6
    assert falls.opening_exceptions.get().closed
    assert Service.objects.get(name="Crisis café").sexes == ["female"]
    assert Organisation.objects.filter(ods_code="ZX001").count() == 1


def test_a_second_run_changes_nothing(tmp_path, db):
    run(tmp_path, GOOD_AND_BAD)
    stamps = dict(Service.objects.values_list("uuid", "updated_at"))
    out = run(tmp_path, GOOD_AND_BAD)
    assert "created 0, updated 0, unchanged 2, rejected 3" in out
    assert dict(Service.objects.values_list("uuid", "updated_at")) == stamps


def test_it_updates_a_row_that_changed(tmp_path, db):
    run(tmp_path, HEADER + row("FALLS-1") + row("CRISIS-1", name="Crisis café", km=2.0))
    out = run(
        tmp_path,
        HEADER
        + row("FALLS-1", phone="020 7946 0999")
        + row("CRISIS-1", name="Crisis café", km=2.0),
    )
    assert "created 0, updated 1, unchanged 1, rejected 0" in out
    assert Service.objects.get(name="Falls pick-up").phone == "020 7946 0999"


def test_imported_services_are_found_by_the_search(tmp_path, api_as, crew):
    run(tmp_path, GOOD_AND_BAD)
    assert ServiceSearchEntry.objects.count() == 2
    answer = search(api_as(crew), category="falls", lat=ORIGIN[0], lon=ORIGIN[1])
    assert [r["name"] for r in answer.json()["results"]] == ["Falls pick-up"]


def test_a_dry_run_counts_but_writes_nothing(tmp_path, db):
    out = run(tmp_path, GOOD_AND_BAD, "--dry-run")
    assert "dry run (nothing written): created 2, updated 0, unchanged 0, rejected 3" in out
    assert not Service.objects.exists()
    assert not Organisation.objects.filter(ods_code="ZX001").exists()


def test_it_rejects_a_service_given_twice(tmp_path, db):
    out = run(tmp_path, HEADER + row("FALLS-1") + row("FALLS-1", name="Again"))
    assert "rejected line 3: the same service as line 2" in out
    assert Service.objects.get().name == "Falls pick-up"


def test_it_refuses_a_file_without_the_required_columns(tmp_path, db):
    with pytest.raises(CommandError, match="missing column"):
        run(tmp_path, "name,phone\nFalls,0207\n")
