"""The de-identified row-level extract: one row per referral, pseudonymous, streamed.

Behind the reports API's referral rows and manage.py export_referrals. Nothing here reads
a patient identifier: the query names its columns.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.db.models import CharField, Func
from django.db.models.functions import TruncDate

from directory.models import Category, Service
from referrals.models import OPEN_STATUSES
from reports.exports import safe_cell
from reports.filters import LONDON, ReportFilters, referrals_matching
from reports.measures import MinutesBetween

EXTRACT_COLUMNS = [
    "pseudonym",
    "iso_week",
    "ics",
    "borough",
    "category",
    "service",
    "organisation",
    "outcome",
    "decline_reason",
    "minutes_to_acknowledge",
    "minutes_to_answer",
    "age_band",
]


class UuidHex(Func):
    """A UUID column as its 32 hex digits, the same text on PostgreSQL and SQLite."""

    arity = 1
    output_field = CharField()
    template = "%(expressions)s"  # SQLite stores UUIDs as 32 hex characters already

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="REPLACE(%(expressions)s::text, '-', '')", **extra
        )


def referral_pseudonym_factory():
    """A function from a referral's id (32 hex digits) to a stable pseudonym.

    HMAC-SHA256 keyed with SECRET_KEY, truncated to 16 hex characters (64 bits): stable
    across exports (a planner can join two extracts) but not reversible without the key.
    """
    base = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)

    def pseudonym(referral_hex: str) -> str:
        mac = base.copy()
        mac.update(referral_hex.encode())
        return mac.hexdigest()[:16]

    return pseudonym


def referral_extract_count(*, filters: ReportFilters) -> int:
    return referrals_matching(filters).count()


def referral_extract_rows(*, filters: ReportFilters, chunk_size: int = 10000) -> Iterator[tuple]:
    """One tuple per referral (EXTRACT_COLUMNS), streamed: constant memory at any size.

    values_list over the referral's own columns, iterated in chunks (a server-side cursor
    on PostgreSQL); service, organisation and place come from a small lookup. The London
    day and the minutes are computed in the database: parsing three timestamps per row in
    Python would cost more than everything else together.
    """
    services = {
        pk: (safe_cell(name), safe_cell(organisation), borough, ics)
        for pk, name, organisation, borough, ics in Service.objects.values_list(
            "pk",
            "name",
            "organisation__name",
            "location__borough__name",
            "location__borough__ics",
        )
    }
    categories = dict(Category.objects.values_list("pk", "code"))
    pseudonym = referral_pseudonym_factory()
    open_statuses = {status.value for status in OPEN_STATUSES}
    weeks: dict[date, str] = {}
    qs = (
        referrals_matching(filters)
        .order_by("created_at")
        .values_list(
            UuidHex("pk"),
            TruncDate("created_at", tzinfo=LONDON),
            "service_id",
            "category_id",
            "status",
            "decline_reason",
            MinutesBetween("acknowledged_at", "created_at"),
            MinutesBetween("answered_at", "created_at"),
            "age_band",
        )
    )
    for (
        hex_id,
        day,
        service_id,
        category_id,
        status,
        reason,
        to_ack,
        to_answer,
        band,
    ) in qs.iterator(chunk_size=chunk_size):
        service_name, organisation, borough, ics = services[service_id]
        week = weeks.get(day)
        if week is None:
            year, number, _ = day.isocalendar()
            week = weeks[day] = f"{year}-W{number:02d}"
        yield (
            pseudonym(hex_id),
            week,
            ics,
            borough,
            categories[category_id],
            service_name,
            organisation,
            "open" if status in open_statuses else status,
            reason,
            None if to_ack is None else round(to_ack, 1),
            None if to_answer is None else round(to_answer, 1),
            band,
        )
