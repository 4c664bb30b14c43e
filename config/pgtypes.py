"""Integer parameters sent to PostgreSQL with one type, so prepared statements are reused.

psycopg types a Python int by its size: smallint below 32,768, integer above. A statement
is prepared (DB_PREPARE_THRESHOLD) per text *and* parameter types, so a statement whose ids
fall on both sides of 32,768 (the search's page of 20 services at 50,000 of them, a
referral to service 40,000 after one to service 300) was counted afresh under each mix of
types and, for twenty ids, never reached the threshold: it was parsed and planned on every
run. Sent as integer (or bigint, beyond integer's range) each statement has one key.
Integer is as good as smallint wherever one was accepted: PostgreSQL compares it with
smallint and bigint columns through their indexes and assigns it to a smallint column.
"""

from __future__ import annotations

from typing import Any

from psycopg.abc import Dumper
from psycopg.adapt import PyFormat
from psycopg.types.numeric import IntBinaryDumper, IntDumper


class _AtLeastInteger:
    """An int within integer's range goes as integer; a larger one as psycopg would send it."""

    def upgrade(self, obj: int, format: PyFormat) -> Dumper:
        if -(2**31) <= obj < 2**31:
            return self._int4_dumper
        return super().upgrade(obj, format)


class _IntegerDumper(_AtLeastInteger, IntDumper):
    pass


class _IntegerBinaryDumper(_AtLeastInteger, IntBinaryDumper):
    pass


def stable_integer_types(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: on PostgreSQL, every int parameter as integer (or bigint)."""
    if connection.vendor != "postgresql":
        return
    adapters = connection.connection.adapters
    adapters.register_dumper(int, _IntegerDumper)
    adapters.register_dumper(int, _IntegerBinaryDumper)
