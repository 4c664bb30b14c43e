"""A dated exception is closed all day or open for given hours: one of the two, never both,
in the model, the database and the admin."""

import re
from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from directory.models import OpeningException
from tests.directory.admin_forms import SERVICES, browser, change_form_data
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


# --- in the admin -----------------------------------------------------------------------


def test_it_offers_a_new_dated_exception_with_nothing_ticked(staff_partner, own_service):
    html = browser(staff_partner).get(f"{SERVICES}{own_service.pk}/change/").content.decode()
    checkbox = re.search(r"<input[^>]*name=\"opening_exceptions-__prefix__-closed\"[^>]*>", html)
    assert checkbox is not None
    assert "checked" not in checkbox.group(0)


def exception_row(**fields) -> dict:
    data = {"opening_exceptions-TOTAL_FORMS": 1, "opening_exceptions-0-date": "2030-12-24"}
    data.update({f"opening_exceptions-0-{name}": value for name, value in fields.items()})
    return data


def test_it_saves_extended_hours_as_an_open_day(staff_partner, own_service):
    data = change_form_data(own_service)
    data.update(exception_row(opens="07:00", closes="23:00", note="Extended hours"))
    answer = browser(staff_partner).post(f"{SERVICES}{own_service.pk}/change/", data)
    assert answer.status_code == 302
    saved = own_service.opening_exceptions.get()
    assert (saved.closed, f"{saved.opens:%H:%M}", f"{saved.closes:%H:%M}") == (
        False,
        "07:00",
        "23:00",
    )


def test_it_refuses_closed_all_day_with_opening_times_and_says_why(staff_partner, own_service):
    data = change_form_data(own_service)
    data.update(exception_row(closed="on", opens="07:00", closes="23:00", note="Extended hours"))
    answer = browser(staff_partner).post(f"{SERVICES}{own_service.pk}/change/", data)
    assert answer.status_code == 200
    assert "Closed all day has no opening times" in answer.content.decode()
    assert not own_service.opening_exceptions.exists()


def test_it_asks_for_the_missing_closing_time_of_an_open_day(staff_partner, own_service):
    data = change_form_data(own_service)
    data.update(exception_row(opens="07:00", note="Late start"))
    answer = browser(staff_partner).post(f"{SERVICES}{own_service.pk}/change/", data)
    assert answer.status_code == 200
    assert "Enter the closing time, or tick closed all day." in answer.content.decode()
    assert not own_service.opening_exceptions.exists()
