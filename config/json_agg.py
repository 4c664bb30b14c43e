"""Related rows as one JSON array in the parent's own query, on PostgreSQL and SQLite.

A hot read that needs a row and a few small lists beside it (a service's hours, the
boroughs it covers) pays one round trip per prefetch_related list; folding each list into
a correlated subquery that returns a JSON array makes it one statement. Use
`json_rows(queryset, parent=..., **columns)` as an annotation, through compiled_once on
a hot path.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections, router
from django.db.models import Aggregate, Expression, JSONField, Model, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject


class JSONArrayAgg(Aggregate):
    """The rows' values as one JSON array (jsonb_agg / json_group_array)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def json_rows(queryset: QuerySet, *, parent: str, outer: str = "pk", **columns: str) -> Subquery:
    """The queryset's rows whose `parent` equals the outer row's `outer`, as
    [{"column": value, ...}, ...] in no set order, or None when there are none.

    `parent` names the queryset's foreign key to the outer row (or to what the outer row's
    `outer` field points at, e.g. the outer service's organisation_id). Values come back as JSON
    does: times and dates as ISO strings, booleans as true/false on PostgreSQL and 1/0 on
    SQLite; the caller converts them.
    """
    rows = (
        queryset.filter(**{parent: OuterRef(outer)})
        .order_by()
        .values(parent)
        .annotate(rows=JSONArrayAgg(JSONObject(**columns)))
        .values("rows")
    )
    return Subquery(rows, output_field=JSONField())


_COMPILED: dict[tuple[str, str, str], RawSQL] = {}


def compiled_once(model: type[Model], name: str, build: Callable[[], Expression]) -> RawSQL:
    """build()'s expression for an annotation on `model`'s queryset, compiled to SQL once per
    process and database, then reused as RawSQL.

    Compiling a correlated subquery (resolving its lookups, JSON functions and output
    fields) costs about as much CPU as the round trip it saves; its SQL never changes, so
    it is compiled on first use. `name` keys the cache: one name, one expression. The SQL
    refers to the outer table by its own name, as an unaliased base table is written.
    """
    alias = router.db_for_read(model)
    key = (alias, model._meta.label, name)
    if key not in _COMPILED:
        connection = connections[alias]
        outer = model._base_manager.all().query
        expression = build().resolve_expression(outer, allow_joins=True, reuse=None)
        sql, params = outer.get_compiler(connection=connection).compile(expression)
        # Django's own SQL for an ORM expression; every value in it is a bound parameter.
        _COMPILED[key] = RawSQL(sql, tuple(params), output_field=JSONField())  # noqa: S611
    return _COMPILED[key]
