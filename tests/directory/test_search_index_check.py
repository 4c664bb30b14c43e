"""manage.py check_search_index: clean after every kind of write, loud on a corrupted row."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from directory.demo import seed_demo
from directory.models import (
    Capacity,
    Location,
    SearchIndexCheck,
    Service,
    ServiceSearchEntry,
    WeeklyWindow,
)
from tests.directory.admin_forms import capacity_list_data, change_form_data
from tests.directory.search_helpers import place_service
from tests.directory.test_import_services import HEADER, row
from tests.factories import borough, category

SERVICES = "/admin/directory/service/"


def check() -> str:
    """The command; its output when clean (a drifted index raises CommandError)."""
    out = StringIO()
    call_command("check_search_index", stdout=out)
    return out.getvalue()


def check_failing() -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("check_search_index", stdout=out)
    return out.getvalue(), str(raised.value)


@pytest.fixture
def partner_browser(staff_partner):
    client = Client()
    client.force_login(staff_partner)
    return client


def edit(client: Client, service: Service, **overrides):
    answer = client.post(f"{SERVICES}{service.pk}/change/", change_form_data(service, **overrides))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return answer


# --- clean after each kind of write ---------------------------------------------------------


def test_it_is_clean_after_the_demo_seed(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_demo()
    assert ServiceSearchEntry.objects.exists()
    assert "0 differences" in check()


def test_it_is_clean_after_generate_services(db):
    call_command("generate_services", "80", "--batch-size", "30", stdout=StringIO())
    assert "0 differences" in check()


def test_it_is_clean_after_a_csv_import(db, tmp_path):
    path = tmp_path / "services.csv"
    path.write_text(
        HEADER
        + row(
            "FALLS-1", hours="Mon-Fri 08:00-20:00; Sat 22:00-06:00", exceptions="2026-12-25 closed"
        )
        + row("CRISIS-1", name="Crisis café", categories="mental-health-crisis", sexes="female")
    )
    call_command("import_services", str(path), stdout=StringIO(), stderr=StringIO())
    assert Service.objects.count() == 2
    assert "0 differences" in check()


def test_it_is_clean_after_a_csv_import_moves_a_shared_site(db, tmp_path):
    path = tmp_path / "services.csv"
    path.write_text(HEADER + row("FALLS-1") + row("FALLS-2", name="Falls night team"))
    call_command("import_services", str(path), stdout=StringIO(), stderr=StringIO())
    path.write_text(HEADER + row("FALLS-1", km=3.0))
    call_command("import_services", str(path), stdout=StringIO(), stderr=StringIO())
    assert "0 differences" in check()


def test_it_is_clean_after_an_hsds_import(db, tmp_path):
    from tests.directory.test_hsds_import import _write, export_pages, run_import

    falls = place_service(1.0, min_age=60, sexes=["female"], bank_holiday_hours="closed")
    falls.boroughs_covered.set([borough("Camden")])
    place_service(2.0, categories=[category("falls"), category("frailty")], hours=[])
    services = [s for page in export_pages(per_page=10) for s in page["contents"]]
    Service.objects.all().delete()
    Location.objects.all().delete()

    run_import(_write(tmp_path, services))

    assert Service.objects.count() == 2
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_service_change(partner_browser, own_service):
    edit(partner_browser, own_service, name="Renamed", active="")
    assert ServiceSearchEntry.objects.get().active is False
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_service_is_added(partner_browser, own_service):
    data = change_form_data(own_service, name="Second team")
    data["categories"] = [category("frailty").pk]
    answer = partner_browser.post(f"{SERVICES}add/", data)
    assert answer.status_code == 302
    assert Service.objects.count() == 2
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_site_move(partner_browser, own_service):
    location = own_service.location
    answer = partner_browser.post(
        f"/admin/directory/location/{location.pk}/change/",
        {
            "organisation": location.organisation_id,
            "name": location.name,
            "address": location.address,
            "postcode": "SW1A 2AA",
            "latitude": "51.5034",
            "longitude": "-0.1276",
            "borough": location.borough_id,
        },
    )
    assert answer.status_code == 302
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_hours_edit(partner_browser, own_service):
    data = change_form_data(own_service)
    data.update(
        {
            "opening_spans-TOTAL_FORMS": 1,
            "opening_spans-0-weekday": 4,
            "opening_spans-0-opens": "20:00",
            "opening_spans-0-closes": "08:00",
        }
    )
    own_service.opening_spans.all().delete()
    answer = partner_browser.post(f"{SERVICES}{own_service.pk}/change/", data)
    assert answer.status_code == 302
    assert WeeklyWindow.objects.filter(service=own_service).count() == 1
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_dated_exception(partner_browser, own_service):
    data = change_form_data(own_service)
    data.update(
        {
            "opening_exceptions-TOTAL_FORMS": 1,
            "opening_exceptions-0-date": (date.today() + timedelta(days=3)).isoformat(),
            "opening_exceptions-0-closed": "on",
        }
    )
    answer = partner_browser.post(f"{SERVICES}{own_service.pk}/change/", data)
    assert answer.status_code == 302
    assert own_service.opening_exceptions.exists()
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_capacity_report(partner_browser, own_service):
    answer = partner_browser.post(
        SERVICES, capacity_list_data([own_service], **{str(own_service.pk): ("AMBER", 2)})
    )
    assert answer.status_code == 302
    entry = ServiceSearchEntry.objects.get()
    assert (entry.capacity_status, entry.capacity_slots) == (Capacity.AMBER, 2)
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_eligibility_edit(partner_browser, own_service):
    edit(
        partner_browser,
        own_service,
        min_age="65",
        sexes=["female"],
        boroughs_covered=[borough("Camden").pk],
        accepts_referrals_when_closed="on",
    )
    entry = ServiceSearchEntry.objects.get()
    assert (entry.min_age, entry.sexes, entry.covers_any) == (65, ["female"], True)
    assert "0 differences" in check()


def test_it_is_clean_after_an_admin_category_change(partner_browser, own_service):
    edit(partner_browser, own_service, categories=[category("frailty").pk, category("falls").pk])
    assert ServiceSearchEntry.objects.count() == 2
    assert "0 differences" in check()


# --- loud on drift --------------------------------------------------------------------------


def test_it_names_the_service_column_and_both_values_of_a_corrupted_row(db):
    service = place_service(0.5, min_age=18)
    ServiceSearchEntry.objects.filter(service=service).update(min_age=99)

    out, error = check_failing()

    assert f"service {service.pk} category {category().pk} min_age: index 99, source 18" in out
    assert "1 differences" in error


def test_it_reports_missing_and_extra_rows(db):
    service = place_service(0.5, hours=[(0, "09:00", "17:00")])
    ServiceSearchEntry.objects.filter(service=service).delete()
    WeeklyWindow.objects.create(service=service, starts=5000, ends=5100)

    out, _ = check_failing()

    assert f"service {service.pk} category {category().pk} row: index 'missing'" in out
    assert f"service {service.pk} weekly window row: index (5000, 5100), source 'missing'" in out


def test_it_keeps_the_last_result_for_the_operators_admin(db, operator):
    service = place_service(0.5)
    check()
    ServiceSearchEntry.objects.filter(service=service).update(active=False)
    check_failing()

    last = SearchIndexCheck.objects.latest()
    assert (last.rows_checked, last.differences) == (2, 1)  # one entry, one window
    assert f"service {service.pk}" in last.report
    client = Client()
    client.force_login(operator)
    page = client.get("/admin/directory/searchindexcheck/")
    assert page.status_code == 200
    assert client.get(f"/admin/directory/searchindexcheck/{last.pk}/change/").status_code == 200


def test_it_keeps_partners_out_of_the_check_results(partner_browser):
    check()
    assert partner_browser.get("/admin/directory/searchindexcheck/").status_code == 403
