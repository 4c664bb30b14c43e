"""A hot statement compiled by the ORM once per process, then run with each call's values.

Building and compiling a queryset costs the ORM a millisecond or more of CPU, often more than
the database takes to answer. Its SQL text depends only on the query's shape, not on its
values, so a shape is compiled once from sentinel values (values no real call sends), each
sentinel's places among the parameters are noted, and later calls fill those places with
their own values. The ORM stays the one author of the SQL and of the rows' conversion; this
module only remembers what it made.

`compiled_instances` does this for a queryset of model instances (select_related included),
building them as Django's own ModelIterable does. directory/search/ uses the parameter
templates directly for its statements.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler


class Slot(NamedTuple):
    name: str
    # Passed as the ORM adapts a field's value (SQLite: dates as text), or as given (RawSQL).
    adapted: bool


def adapt(value: Any, using: str = "default") -> Any:
    """A value as the ORM passes it to the driver (SQLite takes dates as text)."""
    ops = connections[using].ops
    if isinstance(value, datetime):
        return ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return ops.adapt_datefield_value(value)
    return value


def sentinel_slots(values: dict[str, Any], using: str = "default") -> dict[Any, Slot]:
    """Each sentinel value as the compiled parameters may carry it, and its slot."""
    slots = {value: Slot(name, adapted=False) for name, value in values.items()}
    slots.update({adapt(value, using): Slot(name, adapted=True) for name, value in values.items()})
    return slots


def parameter_template(params: list, slots: dict[Any, Slot]) -> tuple[tuple, set[str]]:
    """The compiled parameters with each sentinel replaced by its slot, and the slots
    found."""
    template = tuple(
        slots.get(param, param) if isinstance(param, Hashable) else param for param in params
    )
    return template, {item.name for item in template if type(item) is Slot}


def fill(template: tuple, values: dict[str, Any], using: str = "default") -> list:
    """A template's parameters with this call's values in its slots."""
    return [
        (adapt(values[item.name], using) if item.adapted else values[item.name])
        if type(item) is Slot
        else item
        for item in template
    ]


class _Instances(NamedTuple):
    compiler: SQLCompiler
    sql: str
    template: tuple


_instances: dict[tuple, _Instances | None] = {}


def compiled_instances(
    name: str, build: Callable[..., QuerySet], sentinels: dict[str, Any], values: dict[str, Any]
) -> list[Model]:
    """The model instances of `build(**values)`, from its SQL compiled once per process and
    database vendor from `build(**sentinels)`. When a sentinel is not found among the
    parameters (the ORM pasted a value into the text), every call builds the queryset."""
    queryset = None
    using = "default"
    key = (name, connections[using].vendor)
    if key not in _instances:
        queryset = build(**sentinels)
        using = queryset.db
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        template, found = parameter_template(list(params), sentinel_slots(sentinels, using))
        usable = found == set(sentinels) and not compiler.annotation_col_map
        _instances[key] = _Instances(compiler, sql, template) if usable else None
    compiled = _instances[key]
    if compiled is None:
        return list(build(**values))
    with connections[using].cursor() as cursor:
        cursor.execute(compiled.sql, fill(compiled.template, values, using))
        rows = cursor.fetchall()
    return _built(compiled.compiler, rows, using)


def _built(compiler: SQLCompiler, rows: list[tuple], using: str) -> list[Model]:
    """Rows made into instances with their select_related objects, as ModelIterable does
    (a query with annotations is not compiled; known related objects come only from a
    related manager's queryset, which is not one of these)."""
    select, klass_info = compiler.select, compiler.klass_info
    model_cls = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, using)
    built = []
    for row in compiler.results_iter([rows]):
        instance = model_cls.from_db(using, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, instance)
        built.append(instance)
    return built
