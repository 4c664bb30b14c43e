from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from directory.index import ENTRY_COLUMNS, search_index_check, services_index_rebuild
from directory.models import Location, OpeningSpan, Service, ServiceSearchEntry, WeeklyWindow


def _generate(*args):
    out = StringIO()
    call_command("generate_services", *map(str, args), stdout=out)
    return out.getvalue()


def _index():
    return (
        sorted(
            # Every column: a partial row would send the search to its slow path.
            ServiceSearchEntry.objects.values_list(*ENTRY_COLUMNS)
        ),
        sorted(WeeklyWindow.objects.values_list("service_id", "starts", "ends")),
    )


def test_it_makes_the_number_of_services_asked_for_across_london(db):
    report = _generate(120, "--batch-size", 50)
    assert Service.objects.count() == 120
    assert "Made 120 synthetic services" in report
    assert Location.objects.values("borough").distinct().count() > 20
    for service in Service.objects.prefetch_related("categories", "opening_spans")[:20]:
        assert service.categories.exists()
        assert service.opening_spans.exists()
    lats = Location.objects.values_list("latitude", flat=True)
    assert min(lats) > 51.25 and max(lats) < 51.72


def test_it_adds_to_what_is_there_and_reuses_its_organisations(db):
    _generate(30)
    _generate(30, "--seed", 2)
    assert Service.objects.count() == 60
    assert Service.objects.values("organisation").distinct().count() <= 8


def test_it_writes_every_column_of_the_search_index_as_the_rebuild_would(db):
    _generate(60, "--batch-size", 25)
    written = _index()
    assert written[0] and written[1]
    services_index_rebuild()
    assert _index() == written


def test_it_varies_hours_capacity_and_eligibility(db):
    _generate(200)
    assert len(set(Service.objects.values_list("capacity_status", flat=True))) >= 3
    assert Service.objects.filter(min_age=65).exists()
    assert Service.objects.filter(max_age=17).exists()
    assert (
        OpeningSpan.objects.filter(weekday=5).count()
        < OpeningSpan.objects.filter(weekday=0).count()
    )


def test_it_refuses_a_count_below_one(db):
    with pytest.raises(CommandError):
        _generate(0)
    assert Service.objects.count() == 0


def test_it_takes_the_count_as_an_option_too(db):
    _generate("--count", 12)
    assert Service.objects.count() == 12


def _made():
    """The services made, without their ids (which depend on who wrote them first)."""
    return sorted(
        Service.objects.values_list(
            "name",
            "location__latitude",
            "location__longitude",
            "location__organisation",
            "min_age",
            "max_age",
            "capacity_status",
            "capacity_slots",
        )
    )


def on_postgres_with_commits(test):
    """PostgreSQL only, with real commits: the worker processes see only committed rows.

    serialized_rollback restores the reference data (boroughs, categories) that the flush
    at the end would otherwise remove.
    """
    marks = [
        pytest.mark.postgres,
        pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
        pytest.mark.django_db(transaction=True, serialized_rollback=True),
    ]
    for mark in marks:
        test = mark(test)
    return test


@on_postgres_with_commits
def test_it_makes_the_same_services_from_several_processes_as_from_one():
    _generate(70, "--batch-size", 20, "--seed", 3)
    one = _made()
    Service.objects.all().delete()
    Location.objects.all().delete()
    _generate(70, "--batch-size", 20, "--seed", 3, "--jobs", 2)
    assert _made() == one


@on_postgres_with_commits
def test_it_leaves_a_clean_index_and_whole_rows_when_several_processes_write():
    _generate(90, "--batch-size", 20, "--jobs", 2)
    # Every reference resolves: each service's site is there, of the same organisation.
    assert Service.objects.filter(location__organisation=F("organisation")).count() == 90
    assert search_index_check().differences == []
