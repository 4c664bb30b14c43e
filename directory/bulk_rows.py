"""Many new rows at once, given as plain data (name -> value), for bulk loads such as
`generate_services`: COPY in its text format on PostgreSQL, bulk_create elsewhere."""

from __future__ import annotations

import json
import re

from django.db import connection, models


class RowWriter:
    """Many new rows at once, given as plain data: COPY on PostgreSQL, bulk_create elsewhere.

    Columns a row leaves out take the model field's default (callable defaults, such as a
    uuid, are called for each row), so every row is what the model itself would write.
    """

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"

    def begin(self) -> None:
        """Settings for this transaction's bulk writes (PostgreSQL only).

        Do not wait for the disk at commit: synthetic rows, a crash could lose the last
        batch, never corrupt the database. And, when the role may (a superuser), skip the
        foreign-key checks, which PostgreSQL runs row by row at commit and which took
        about 40% of the load: every reference in these rows is to a row this command
        read or wrote in the same transaction. The constraints stay as the migrations
        made them and still guard every other writer.
        """
        if self.copy:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute("SELECT current_setting('is_superuser') = 'on'")
                if cursor.fetchone()[0]:
                    cursor.execute("SET LOCAL session_replication_role TO replica")

    def insert(self, model, rows: list[dict]) -> list[int]:
        """Write rows (attname -> value, the same names in every row) as new objects of
        model; their new primary keys, in order."""
        if not rows:
            return []
        if not self.copy:
            objs = [model(**row) for row in rows]
            model.objects.bulk_create(objs, batch_size=2000)
            return [obj.pk for obj in objs]
        pk = model._meta.pk
        fields = [f for f in model._meta.concrete_fields if f is not pk]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(rows)],
            )
            ids = [new_id for (new_id,) in cursor.fetchall()]
            # Per column, its text from a row: the row's value, a default written once, or
            # a default made afresh for each row (a callable such as uuid4).
            writers = []
            for f in fields:
                cell = _cell_writer(f)
                if f.attname in rows[0]:
                    writers.append(lambda row, name=f.attname, cell=cell: cell(row[name]))
                elif f.has_default() and callable(f.default):
                    writers.append(lambda row, make=f.default, cell=cell: cell(make()))
                else:
                    text = cell(f.get_default())
                    writers.append(lambda row, text=text: text)
            lines = (
                "\t".join([str(new_id), *(write(row) for write in writers)])
                for new_id, row in zip(ids, rows, strict=True)
            )
            self._copy(cursor, model, [pk.column, *(f.column for f in fields)], lines)
        return ids

    def write_rows(self, model, names: list[str], rows: list[tuple]) -> None:
        """Rows given as tuples of the named fields (attnames, e.g. service_id)."""
        if not rows:
            return
        if not self.copy:
            model.objects.bulk_create(
                [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=2000
            )
            return
        fields = [model._meta.get_field(name.removesuffix("_id")) for name in names]
        cells = [_cell_writer(f) for f in fields]
        if all(cell is str for cell in cells):  # integers, times: the common case
            lines = ("\t".join(map(str, row)) for row in rows)
        else:
            lines = (
                "\t".join([cell(v) for cell, v in zip(cells, row, strict=True)]) for row in rows
            )
        with connection.cursor() as cursor:
            self._copy(cursor, model, [f.column for f in fields], lines)

    @staticmethod
    def _copy(cursor, model, columns: list[str], lines) -> None:
        """COPY in PostgreSQL's text format, sent in large pieces."""
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        table = connection.ops.quote_name(model._meta.db_table)
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            piece = []
            for line in lines:
                piece.append(line)
                if len(piece) >= COPY_PIECE:
                    copy.write("\n".join(piece) + "\n")
                    piece = []
            if piece:
                copy.write("\n".join(piece) + "\n")


COPY_PIECE = 5000
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text_cell(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):  # str enums too
        return value.translate(COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value
    kind = type(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is float:
        return repr(value)
    return str(value)  # int, datetime, time, UUID, Decimal: nothing to escape


def _str_cell(value: str) -> str:
    return value.translate(COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


def _json_cell(value) -> str:
    return "\\N" if value is None else json.dumps(value).translate(COPY_ESCAPES)


def _bool_cell(value) -> str:
    return "t" if value else "f"


def _cell_writer(field):
    """The fastest safe text writer for a column's values."""
    if isinstance(field, models.JSONField):
        return _json_cell
    if field.null:
        return _text_cell
    kind = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(kind, models.BooleanField):
        return _bool_cell
    if isinstance(kind, models.IntegerField | models.DateTimeField | models.TimeField):
        return str  # never None here; nothing in them to escape
    if isinstance(kind, models.FloatField):
        return repr
    if isinstance(kind, models.CharField | models.TextField):
        return _str_cell
    return _text_cell


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
