"""Reference data the search reads on every request, cached per process (H8).

Categories and boroughs come from data migrations and change rarely (an operator in the
admin, a test database being set up or flushed), so each process keeps one copy and drops
it whenever one of those happens: post_save/post_delete on the model, and post_migrate,
which Django also sends after a flush.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from directory.models import Borough, Category

_categories: dict[str, int] | None = None
_boroughs: list[Borough] | None = None


def category_ids_by_code() -> dict[str, int]:
    """{code: id} of every category."""
    global _categories
    if _categories is None:
        _categories = dict(Category.objects.values_list("code", "id"))
    return _categories


def category_ids(codes: list[str]) -> dict[str, int]:
    """{code: id} for the given codes that exist; an unknown code is looked up again once,
    in case it was added since the cache was filled."""
    known = category_ids_by_code()
    if any(code not in known for code in codes):
        reference_cache_clear()
        known = category_ids_by_code()
    return {code: known[code] for code in codes if code in known}


def boroughs() -> list[Borough]:
    """Every borough (33), as read-only instances shared by the process."""
    global _boroughs
    if _boroughs is None:
        _boroughs = list(Borough.objects.all())
    return _boroughs


def reference_cache_clear(**_kwargs) -> None:
    global _categories, _boroughs
    _categories = None
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
