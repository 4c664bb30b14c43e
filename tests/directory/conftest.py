"""People and services the directory's admin tests share."""

import pytest

from tests.factories import ServiceFactory


@pytest.fixture
def staff_partner(partner):
    partner.is_staff = True
    partner.save(update_fields=["is_staff"])
    return partner


@pytest.fixture
def own_service(provider):
    return ServiceFactory(organisation=provider, name="Alpha Falls Team")


@pytest.fixture
def foreign_service(other_provider):
    return ServiceFactory(organisation=other_provider, name="Beta Crisis Cafe")
