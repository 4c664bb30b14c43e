"""File formats for reports: CSV streamed in chunks, XLSX in openpyxl's write-only mode,
and cells a spreadsheet would run as a formula quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, BinaryIO

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a partner-typed name) is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Lines:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def write(self, text: str) -> None:
        self.buffer.write(text)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def csv_chunks(
    header: list[str], rows: Iterable[Iterable[Any]], batch: int = 2000
) -> Iterator[str]:
    """CSV text in chunks of `batch` rows: streamed, never the whole file in memory.

    Rows must already be safe (safe_cell on free-typed text): the extract's million rows
    would pay for a check of every cell otherwise.
    """
    out = _Lines()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    rows = iter(rows)
    while True:
        before = out.buffer.tell()
        writer.writerows(islice(rows, batch))
        if out.buffer.tell() == before:
            break
        yield out.take()
    yield out.take()


def write_xlsx(target: str | BinaryIO, sheets: Iterable[tuple[str, list[str], Iterable]]) -> None:
    """Write (title, header, rows) sheets with openpyxl's write-only mode (rows stream to disk)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    workbook.save(target)


def table_rows(rows: list[dict[str, Any]], columns: list[str]) -> Iterator[list[Any]]:
    """An aggregate table's rows as lists, labels (which may be partner-typed) made safe."""
    for row in rows:
        yield [safe_cell(row.get(column)) for column in columns]
