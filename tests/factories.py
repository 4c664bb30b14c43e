"""Test data builders. Fictional people and places only."""

from datetime import time, timedelta

import factory
from django.utils import timezone

from directory.models import (
    Borough,
    Capacity,
    Category,
    Location,
    OpeningSpan,
    Organisation,
    Role,
    Service,
    User,
)

TEST_PASSWORD = "correct horse battery staple"


def borough(name: str = "Westminster") -> Borough:
    return Borough.objects.get(name=name)


def category(code: str = "falls") -> Category:
    return Category.objects.get(code=code)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Test Provider {n}")
    ods_code = factory.Sequence(lambda n: f"T{n:05d}")
    kind = Organisation.Kind.NHS_TRUST
    borough = factory.LazyFunction(borough)
    ics = factory.LazyAttribute(lambda o: o.borough.ics if o.borough else "")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.CREW
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Test Site {n}")
    address = factory.Sequence(lambda n: f"{n} Example Street, London")
    postcode = "SW1A 1AA"
    latitude = 51.5010
    longitude = -0.1416
    borough = factory.LazyFunction(borough)
    organisation = factory.SubFactory(OrganisationFactory)


class ServiceFactory(factory.django.DjangoModelFactory):
    """A service open around the clock, GREEN for the next hours, taking crews' referrals."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Test Service {n}")
    location = factory.SubFactory(
        LocationFactory, organisation=factory.SelfAttribute("..organisation")
    )
    referral_roles = factory.LazyFunction(lambda: [Role.CREW])
    capacity_status = Capacity.GREEN
    capacity_updated_at = factory.LazyFunction(timezone.now)
    capacity_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=4))

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.categories.set(extracted if extracted is not None else [category()])

    @factory.post_generation
    def hours(obj, create, extracted, **kwargs):  # noqa: N805
        """hours=[(weekday, "HH:MM", "HH:MM"), ...]; default open 24/7; hours=[] never open."""
        if not create:
            return
        spans = extracted if extracted is not None else [(d, "00:00", "00:00") for d in range(7)]
        OpeningSpan.objects.bulk_create(
            OpeningSpan(
                service=obj,
                weekday=d,
                opens=time.fromisoformat(o),
                closes=time.fromisoformat(c),
            )
            for d, o, c in spans
        )

    @factory.post_generation
    def search_index(obj, create, extracted, **kwargs):  # noqa: N805
        """(H1) Keep the search's derived rows in step, as the admin and seed commands do.

        Declared last so it runs after categories and hours are set."""
        if create:
            from directory.index import service_index_rebuild

            service_index_rebuild(service=obj)
