"""import_hsds: an HSDS export goes in whole per service, re-runs change nothing, round trips."""

import json
from datetime import date, time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from rest_framework.test import APIClient

from directory import imports
from directory.models import (
    Location,
    OpeningException,
    Organisation,
    Service,
    ServiceSearchEntry,
)
from tests.directory.search_helpers import place_service, search
from tests.factories import borough, category


def snapshot(service: Service) -> dict:
    """What a person would call 'the same service': every published fact of it."""
    return {
        "name": service.name,
        "public_name": service.public_name,
        "description": service.description,
        "active": service.active,
        "phone": service.phone,
        "referral_instructions": service.referral_instructions,
        "ages": (service.min_age, service.max_age),
        "sexes": sorted(service.sexes),
        "criteria": (service.inclusion_criteria, service.exclusion_criteria),
        "bank_holiday_hours": service.bank_holiday_hours,
        "categories": sorted(c.code for c in service.categories.all()),
        "areas": sorted(b.gss_code for b in service.boroughs_covered.all()),
        "spans": sorted(service.opening_spans.values_list("weekday", "opens", "closes")),
        "exceptions": sorted(
            service.opening_exceptions.values_list("date", "closed", "opens", "closes", "note")
        ),
        "organisation": (
            service.organisation.uuid,
            service.organisation.name,
            service.organisation.ods_code,
            service.organisation.kind,
        ),
        "location": (
            service.location.uuid,
            service.location.name,
            service.location.address,
            service.location.postcode,
            service.location.latitude,
            service.location.longitude,
            service.location.borough_id,
        ),
    }


def directory_snapshot() -> dict:
    return {s.uuid: snapshot(s) for s in Service.objects.all()}


def export_pages(per_page: int = 2) -> list[dict]:
    client, pages, page = APIClient(), [], 1
    while True:
        answer = client.get("/hsds/services", {"full": "true", "per_page": per_page, "page": page})
        assert answer.status_code == 200
        pages.append(answer.json())
        if answer.json()["last_page"]:
            return pages
        page += 1


def run_import(path, *extra) -> str:
    out = StringIO()
    call_command("import_hsds", str(path), *extra, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def directory(db):
    """A small directory with everything the HSDS mapping carries."""
    falls = place_service(
        1.0,
        name="Falls pick-up",
        phone="020 7946 0001",
        min_age=60,
        sexes=["female", "male"],
        inclusion_criteria="Fallen and uninjured",
        exclusion_criteria="Head injury",
        bank_holiday_hours="closed",
        hours=[(0, "08:00", "20:00"), (4, "20:00", "08:00"), (6, "00:00", "00:00")],
    )
    falls.boroughs_covered.set([borough("Westminster"), borough("Camden")])
    OpeningException.objects.create(service=falls, date=date(2026, 12, 25), closed=True)
    OpeningException.objects.create(
        service=falls,
        date=date(2026, 12, 26),
        closed=False,
        opens=time(10),
        closes=time(14),
        note="Boxing Day",
    )
    place_service(2.0, name="Crisis café", categories=[category("mental-health-crisis")])
    place_service(3.0, name="Frailty hub", categories=[category("falls"), category("frailty")])
    place_service(0.5, name="Closed down", active=False)
    from directory.index import services_index_rebuild

    services_index_rebuild()
    return Service.objects.all()


def test_an_export_imported_into_an_empty_directory_gives_the_same_services(
    directory, tmp_path, api_as, crew
):
    before = directory_snapshot()
    crew_api = api_as(crew)

    def found() -> list:
        answer = search(crew_api, category="falls", radius_km=10)
        assert answer.status_code == 200
        return [
            (Service.objects.get(pk=r["id"]).uuid, r["distance_km"], r["open_now"])
            for r in answer.json()["results"]
        ]

    results_before = found()
    path = tmp_path / "hsds.json"
    path.write_text(json.dumps(export_pages()))

    Service.objects.all().delete()
    Location.objects.all().delete()
    Organisation.objects.filter(users__isnull=True).delete()
    assert not ServiceSearchEntry.objects.exists()

    assert "created 4, updated 0, unchanged 0, rejected 0" in run_import(path)
    assert directory_snapshot() == before
    assert found() == results_before


def test_a_second_run_changes_nothing(directory, tmp_path):
    path = tmp_path / "hsds.json"
    path.write_text(json.dumps(export_pages()))
    stamps = dict(Service.objects.values_list("uuid", "updated_at"))

    assert "created 0, updated 0, unchanged 4, rejected 0" in run_import(path)
    assert dict(Service.objects.values_list("uuid", "updated_at")) == stamps


def test_it_updates_a_changed_service_and_its_search_index(directory, tmp_path):
    pages = export_pages(per_page=10)
    record = next(s for s in pages[0]["contents"] if s["name"] == "Crisis café")
    record["name"] = "Crisis café (night)"
    record["attributes"][0]["taxonomy_term"]["code"] = "falls"
    path = tmp_path / "hsds.json"
    path.write_text(json.dumps(pages))

    assert "created 0, updated 1, unchanged 3, rejected 0" in run_import(path)
    service = Service.objects.get(name="Crisis café (night)")
    assert [c.code for c in service.categories.all()] == ["falls"]
    assert list(
        ServiceSearchEntry.objects.filter(service=service).values_list("category__code", flat=True)
    ) == ["falls"]


def test_it_rejects_bad_records_with_where_and_why_and_imports_the_rest(directory, tmp_path):
    services = [s for page in export_pages(per_page=10) for s in page["contents"]]
    Service.objects.all().delete()
    Location.objects.all().delete()
    Organisation.objects.filter(users__isnull=True).delete()
    services[1]["attributes"] = [
        {"taxonomy_term": {"code": "juggling", "taxonomy": "x"}, "value": "juggling"}
    ]
    services[2]["schedules"][0]["opens_at"] = "quarter past"
    services.append({"id": "not-a-uuid", "name": "Broken", "organization": {}})

    out = run_import(_write(tmp_path, services))

    assert "created 2, updated 0, unchanged 0, rejected 3" in out
    assert "record 2 (" in out and "no category frontdoor knows" in out
    assert "record 3 (" in out and "'quarter past' is not a time" in out
    assert "record 5 (Broken)" in out
    assert Service.objects.count() == 2
    # Nothing of the rejected ones was written, not even their organisations.
    assert Organisation.objects.filter(users__isnull=True).count() == 2


def test_it_never_leaves_half_a_service(directory, tmp_path, monkeypatch):
    services = [s for page in export_pages(per_page=10) for s in page["contents"]]
    Service.objects.all().delete()
    Location.objects.all().delete()
    Organisation.objects.filter(users__isnull=True).delete()
    real = imports.service_save

    def failing(*, service, **writes):
        if service.name == "Frailty hub":
            real(service=service, **writes)
            raise IntegrityError("simulated failure after the service was written")
        return real(service=service, **writes)

    monkeypatch.setattr(imports, "service_save", failing)
    out = run_import(_write(tmp_path, services))

    assert "created 3, updated 0, unchanged 0, rejected 1" in out
    assert not Service.objects.filter(name="Frailty hub").exists()
    assert Location.objects.count() == 3
    assert Organisation.objects.filter(users__isnull=True).count() == 3


def test_a_dry_run_counts_but_writes_nothing(directory, tmp_path):
    path = _write(tmp_path, [s for page in export_pages() for s in page["contents"]])
    Service.objects.all().delete()
    Location.objects.all().delete()
    Organisation.objects.filter(users__isnull=True).delete()

    out = run_import(path, "--dry-run")

    assert "dry run (nothing written): created 4" in out
    assert not Service.objects.exists()
    assert not Organisation.objects.filter(users__isnull=True).exists()


def test_it_refuses_a_file_that_is_not_hsds(tmp_path, db):
    from django.core.management.base import CommandError

    path = tmp_path / "nope.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(CommandError, match="not an HSDS export"):
        run_import(path)


def _write(tmp_path, services) -> str:
    path = tmp_path / "services.json"
    path.write_text(json.dumps(services))
    return str(path)
