"""The directory's models, one module per topic; every model is importable from here."""

from directory.models.organisations import Organisation, Role, User
from directory.models.places import ICS, Borough, Postcode, PostcodeArea
from directory.models.search import SearchIndexCheck, SearchLog, ServiceSearchEntry, WeeklyWindow
from directory.models.services import (
    EXCEPTION_CHOICE_MESSAGE,
    BankHolidayHours,
    Capacity,
    Category,
    IndexedQuerySet,
    Location,
    LocationQuerySet,
    OpeningException,
    OpeningSpan,
    OpeningSpanQuerySet,
    Service,
    ServiceQuerySet,
    Sex,
    default_capacity_expiry,
)

__all__ = [
    "EXCEPTION_CHOICE_MESSAGE",
    "ICS",
    "BankHolidayHours",
    "Borough",
    "Capacity",
    "Category",
    "IndexedQuerySet",
    "Location",
    "LocationQuerySet",
    "OpeningException",
    "OpeningSpan",
    "OpeningSpanQuerySet",
    "Organisation",
    "Postcode",
    "PostcodeArea",
    "Role",
    "SearchIndexCheck",
    "SearchLog",
    "Service",
    "ServiceQuerySet",
    "ServiceSearchEntry",
    "Sex",
    "User",
    "WeeklyWindow",
    "default_capacity_expiry",
]
