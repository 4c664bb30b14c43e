"""config/compiled.py: a queryset compiled once gives each call its own rows, as the ORM would."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.compiled import compiled_instances
from directory.models import User
from tests.factories import UserFactory

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
        found = compiled_instances(
            "test_users", _users, SENTINELS, {"name": user.username, "joined": early}
        )
        assert found == list(_users(name=user.username, joined=early)) == [user]
    late = datetime(2999, 1, 1, tzinfo=UTC)
    assert (
        compiled_instances("test_users", _users, SENTINELS, {"name": "ann", "joined": late}) == []
    )


@pytest.mark.django_db
def test_it_brings_the_related_objects_with_the_fields_converted():
    ann = UserFactory(username="ann")
    early = datetime(2000, 1, 1, tzinfo=UTC)
    compiled_instances("test_users", _users, SENTINELS, {"name": "ann", "joined": early})
    with CaptureQueriesContext(connection) as queries:
        [found] = compiled_instances(
            "test_users", _users, SENTINELS, {"name": "ann", "joined": early}
        )
        assert found.organisation.name == ann.organisation.name
    assert len(queries) == 1
    # Converted as the ORM converts them (SQLite hands back text and 0/1).
    assert found.date_joined == User.objects.get(pk=ann.pk).date_joined
    assert found.is_active is True
