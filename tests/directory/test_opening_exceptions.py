"""A dated exception is closed all day or open for given hours: one of the two, never both."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from directory.models import OpeningException
from tests.factories import ServiceFactory


@pytest.fixture
def service(db):
    return ServiceFactory()


def test_it_has_no_default_between_closed_and_open(service):
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningException.objects.create(service=service, date=date(2030, 1, 2))


def test_it_refuses_closed_all_day_with_hours_in_clean(service):
    exception = OpeningException(
        service=service, date=date(2030, 1, 2), closed=True, opens=time(7), closes=time(23)
    )
    with pytest.raises(ValidationError) as refused:
        exception.full_clean()
    assert "closed" in refused.value.message_dict


def test_it_refuses_closed_all_day_with_hours_in_the_database(service):
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningException.objects.create(
            service=service, date=date(2030, 1, 2), closed=True, opens=time(7), closes=time(23)
        )


def test_it_names_the_missing_time_of_an_open_day(service):
    exception = OpeningException(service=service, date=date(2030, 1, 2), closed=False)
    with pytest.raises(ValidationError) as refused:
        exception.full_clean()
    assert set(refused.value.message_dict) == {"opens", "closes"}


def test_it_accepts_either_choice_alone(service):
    OpeningException(service=service, date=date(2030, 1, 2), closed=True).full_clean()
    OpeningException(
        service=service, date=date(2030, 1, 3), closed=False, opens=time(7), closes=time(23)
    ).full_clean()
