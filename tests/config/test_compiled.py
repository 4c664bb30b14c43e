"""Statements compiled once per connection read and write exactly what the ORM would."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.compiled import insert, row_by, rows_by, update
from directory.models import Service, User
from directory.selectors import service_for_fit
from referrals.models import IdempotencyKey, Referral, ReferralEvent
from tests.factories import ServiceFactory, UserFactory
from tests.referrals.factories import referral_create


@pytest.fixture
def service(provider):
    return ServiceFactory(organisation=provider)


def _with_places(value):
    return (
        Service.objects.select_related("location__borough", "organisation")
        .annotate(marker=Value("here"))
        .filter(pk=value)
    )


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_it_reads_a_row_with_its_joins_and_annotations_as_the_orm_does(provider):
    service = ServiceFactory(organisation=provider)

    read = row_by(Service, "test_with_places", _with_places, service.pk)
    expected = _with_places(service.pk).get()

    assert _values(read) == _values(expected)
    assert read.marker == "here"
    with CaptureQueriesContext(connection) as queries:
        assert _values(read.organisation) == _values(expected.organisation)
        assert _values(read.location) == _values(expected.location)
        assert read.location.borough.name == expected.location.borough.name
    assert queries.captured_queries == []


def test_it_reads_each_row_it_is_asked_for_and_none_when_there_is_none(provider):
    first, second = ServiceFactory(organisation=provider), ServiceFactory(organisation=provider)

    assert row_by(Service, "test_with_places", _with_places, first.pk).pk == first.pk
    assert row_by(Service, "test_with_places", _with_places, second.pk).pk == second.pk
    assert row_by(Service, "test_with_places", _with_places, second.pk + 1000) is None


def test_a_service_id_out_of_range_is_no_service(db):
    assert service_for_fit(service_id=2**70) is None
    assert service_for_fit(service_id=-(2**70)) is None


def test_it_inserts_rows_as_save_would(crew, service):
    saved = referral_create(crew, service)
    fields = {
        f.attname: getattr(saved, f.attname)
        for f in Referral._meta.concrete_fields
        if f.attname not in {"id", "created_at", "updated_at"}
    }
    copy = Referral(**fields)

    insert([copy])

    assert not copy._state.adding
    stored = Referral.objects.get(pk=copy.pk)
    assert {k: v for k, v in _values(stored).items() if k in fields} == fields
    assert stored.created_at is not None
    assert stored.updated_at is not None
    assert stored.observations == saved.observations


def test_it_inserts_several_rows_in_one_statement_and_sets_their_ids(crew, service):
    referral = referral_create(crew, service)
    events = [ReferralEvent(referral=referral, to_status="sent", note=str(n)) for n in range(3)]

    with CaptureQueriesContext(connection) as queries:
        insert(events)

    assert len(queries.captured_queries) == 1
    assert [e.note for e in ReferralEvent.objects.filter(pk__in=[e.pk for e in events])] == [
        "0",
        "1",
        "2",
    ]
    for event in events:
        assert ReferralEvent.objects.get(pk=event.pk).note == event.note


def test_it_saves_one_by_one_when_a_model_has_save_receivers(crew, service):
    referral = referral_create(crew, service)
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.note, created))

    post_save.connect(receiver, sender=ReferralEvent)
    try:
        insert([ReferralEvent(referral=referral, to_status="sent", note=n) for n in "ab"])
    finally:
        post_save.disconnect(receiver, sender=ReferralEvent)

    assert heard == [("a", True), ("b", True)]


def test_it_refuses_an_unsaved_related_row(crew, service):
    unsaved = ServiceFactory.build(organisation=service.organisation, location=service.location)
    with pytest.raises(ValueError, match="unsaved"):
        insert([Referral(service=unsaved, referring_organisation=crew.organisation)])


def test_it_updates_one_row_as_queryset_update_would(crew):
    first = IdempotencyKey.objects.create(user=crew, key="a", request_hash="h")
    second = IdempotencyKey.objects.create(user=crew, key="b", request_hash="h")
    now = timezone.now()
    body = {"id": "x", "nested": {"list": [1, None, "é"]}}

    changed = update(
        IdempotencyKey, first.pk, response_status=201, response_body=body, completed_at=now
    )

    assert changed == 1
    first.refresh_from_db()
    assert (first.response_status, first.response_body, first.completed_at) == (201, body, now)
    second.refresh_from_db()
    assert second.completed_at is None
    assert update(IdempotencyKey, second.pk + 1000, response_status=200) == 0


def test_it_inserts_a_referral_and_its_event_in_one_statement_on_postgresql(crew, service):
    saved = referral_create(crew, service)
    fields = {
        f.attname: getattr(saved, f.attname)
        for f in Referral._meta.concrete_fields
        if f.attname not in {"id", "created_at", "updated_at"}
    }
    referral = Referral(**fields)
    event = ReferralEvent(referral=referral, to_status="sent", note="first")

    with CaptureQueriesContext(connection) as queries:
        insert([referral], [event])

    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert ReferralEvent.objects.get(pk=event.pk).referral_id == referral.pk
    assert Referral.objects.get(pk=referral.pk).incident_reference == saved.incident_reference


# --- rows_by: many rows, several values ---

SENTINELS = {"name": "~n4m3~", "joined": datetime(2003, 4, 5, 6, 7, 8, tzinfo=UTC)}


def _users(*, name: str, joined: datetime):
    return (
        User.objects.filter(username=name, date_joined__gte=joined)
        .select_related("organisation")
        .order_by("pk")
    )


@pytest.mark.django_db
def test_it_answers_each_call_with_that_calls_values():
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    early = datetime(2000, 1, 1, tzinfo=UTC)
    for user in (ann, bob, ann):
        found = rows_by(
            "test_users_by_name", _users, SENTINELS, {"name": user.username, "joined": early}
        )
        assert found == list(_users(name=user.username, joined=early)) == [user]
    late = datetime(2999, 1, 1, tzinfo=UTC)
    assert rows_by("test_users_by_name", _users, SENTINELS, {"name": "ann", "joined": late}) == []


@pytest.mark.django_db
def test_it_brings_the_related_objects_with_the_fields_converted():
    ann = UserFactory(username="ann")
    early = datetime(2000, 1, 1, tzinfo=UTC)
    rows_by("test_users_by_name", _users, SENTINELS, {"name": "ann", "joined": early})
    with CaptureQueriesContext(connection) as queries:
        [found] = rows_by("test_users_by_name", _users, SENTINELS, {"name": "ann", "joined": early})
        assert found.organisation.name == ann.organisation.name
    assert len(queries) == 1
    # Converted as the ORM converts them (SQLite hands back text and 0/1).
    assert found.date_joined == User.objects.get(pk=ann.pk).date_joined
    assert found.is_active is True
