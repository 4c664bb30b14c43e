"""Reference data the search and referral creation read on every request, cached per
process (H8): the one category cache, the boroughs, and the age bands.

Categories and boroughs come from data migrations and change rarely (an operator in the
admin, a test database being set up or flushed), so each process keeps one copy and drops
it whenever one of those happens: post_save/post_delete on the model, and post_migrate,
which Django also sends after a flush. Another process's admin edit is not signalled here,
so categories are also read again after CATEGORY_CACHE_SECONDS, and at once when a code
is asked for that the cache does not know.
"""

from __future__ import annotations

import time

from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from directory.models import Borough, Category

# De-identified ages, as the search log and the referrals' reports keep them.
AGE_BANDS = ((18, "0-17"), (65, "18-64"), (80, "65-79"), (None, "80+"))

CATEGORY_CACHE_SECONDS = 300.0

_categories: dict[str, Category] | None = None
_category_ids: dict[str, int] | None = None
_categories_read_at = 0.0
_boroughs: list[Borough] | None = None


def _categories_by_code() -> dict[str, Category]:
    global _categories, _category_ids, _categories_read_at
    stale = time.monotonic() - _categories_read_at > CATEGORY_CACHE_SECONDS
    if _categories is None or stale:
        _categories = {category.code: category for category in Category.objects.all()}
        _category_ids = {code: category.pk for code, category in _categories.items()}
        _categories_read_at = time.monotonic()
    return _categories


def category_ids_by_code() -> dict[str, int]:
    """{code: id} of every category."""
    _categories_by_code()
    assert _category_ids is not None
    return _category_ids


def category_by_code(code: str) -> Category | None:
    """The category with this code (a read-only instance shared by the process), or None."""
    known = _categories_by_code()
    if code not in known:
        reference_cache_clear()
        known = _categories_by_code()
    return known.get(code)


def category_ids(codes: list[str]) -> dict[str, int]:
    """{code: id} for the given codes that exist; an unknown code is looked up again once,
    in case it was added since the cache was filled."""
    known = category_ids_by_code()
    if any(code not in known for code in codes):
        reference_cache_clear()
        known = category_ids_by_code()
    return {code: known[code] for code in codes if code in known}


def age_band(age: int | None) -> str | None:
    """The band an age falls in ("0-17", "18-64", "65-79", "80+"); None when not known."""
    if age is None:
        return None
    return next(band for below, band in AGE_BANDS if below is None or age < below)


def boroughs() -> list[Borough]:
    """Every borough (33), as read-only instances shared by the process."""
    global _boroughs
    if _boroughs is None:
        _boroughs = list(Borough.objects.all())
    return _boroughs


def reference_cache_clear(**_kwargs) -> None:
    global _categories, _category_ids, _boroughs
    _categories = None
    _category_ids = None
    _boroughs = None


@receiver(post_migrate, dispatch_uid="directory.reference.migrate")
def _on_migrate(**kwargs) -> None:
    reference_cache_clear()


@receiver(post_save, sender=Category, dispatch_uid="directory.reference.category_save")
@receiver(post_delete, sender=Category, dispatch_uid="directory.reference.category_delete")
@receiver(post_save, sender=Borough, dispatch_uid="directory.reference.borough_save")
@receiver(post_delete, sender=Borough, dispatch_uid="directory.reference.borough_delete")
def _on_change(**kwargs) -> None:
    reference_cache_clear()
