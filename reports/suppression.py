"""Small-cell suppression: counts that could point at a person are shown as "<5", and
figures drawn from them are left out, unless the reader may see exact counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from directory.permissions import reads_exact_small_counts
from reports.measures import COUNT_COLUMNS, DURATION_COLUMNS

SUPPRESSED = "<5"
GAP_COUNT_COLUMNS = ["searches", "gaps"]


def _small(value: Any, threshold: int) -> bool:
    return isinstance(value, int) and 0 < value < threshold


def suppress_small_cells(
    rows: Iterable[dict[str, Any]],
    *,
    counts: list[str],
    base: str,
    derived: list[str],
    threshold: int | None = None,
) -> list[dict[str, Any]]:
    """Rows fit to leave the system: counts from 1 to threshold-1 become "<5"; a rate or a
    time drawn from fewer than threshold referrals (or searches) becomes None.

    A count of one or two in a borough, week and category can point at a person; zero
    cannot and stays. `base` names the column the derived figures are drawn from.
    """
    threshold = settings.REPORT_SMALL_CELL_THRESHOLD if threshold is None else threshold
    label = SUPPRESSED if threshold == 5 else f"<{threshold}"
    out = []
    for row in rows:
        row = dict(row)
        if _small(row.get(base), threshold):
            for column in derived:
                row[column] = None
        for column in counts:
            if _small(row.get(column), threshold):
                row[column] = label
        out.append(row)
    return out


def small_cell(value: Any, threshold: int | None = None) -> Any:
    """One count as it may be shown: "<5" from 1 to threshold-1."""
    return suppress_small_cells(
        [{"n": value}], counts=["n"], base="", derived=[], threshold=threshold
    )[0]["n"]


def referral_rows_suppressed(
    rows: Iterable[dict[str, Any]], *, threshold: int | None = None
) -> list[dict[str, Any]]:
    return suppress_small_cells(
        rows,
        counts=COUNT_COLUMNS,
        base="referrals",
        derived=["acceptance_rate", *DURATION_COLUMNS],
        threshold=threshold,
    )


def gap_rows_suppressed(
    rows: Iterable[dict[str, Any]], *, threshold: int | None = None
) -> list[dict[str, Any]]:
    return suppress_small_cells(
        rows,
        counts=GAP_COUNT_COLUMNS,
        base="searches",
        derived=["gap_rate"],
        threshold=threshold,
    )


def small_cell_threshold_for(user) -> int:
    """The threshold this reader's reports are suppressed at (1: nothing is suppressed)."""
    return 1 if reads_exact_small_counts(user) else settings.REPORT_SMALL_CELL_THRESHOLD
