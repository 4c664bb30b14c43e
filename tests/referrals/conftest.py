import pytest

from tests.factories import ServiceFactory


@pytest.fixture
def service(provider):
    """A falls service of the partner's organisation, open around the clock, no slots counted."""
    return ServiceFactory(organisation=provider, name="Alpha Falls Response")


@pytest.fixture
def other_service(other_provider):
    return ServiceFactory(organisation=other_provider, name="Beta Falls Response")


@pytest.fixture
def other_crew(db):
    from directory.models import Organisation, Role
    from tests.factories import OrganisationFactory, UserFactory

    trust = OrganisationFactory(
        name="Other Ambulance (test)", kind=Organisation.Kind.AMBULANCE_TRUST
    )
    return UserFactory(username="frank-crew", organisation=trust, role=Role.CREW)
