"""Hot statements whose SQL never changes, built once per database connection and run with
fresh values: a one-row read with its select_related joins, a read of many rows by several
values (sentinels), plain INSERTs, and an UPDATE of one row by its primary key.

Django compiles a queryset's SQL (joins, select list, lookups, ordering) and an INSERT's
(each field's placeholder, its returning columns) again for every execution; for referral
creation that cost more CPU than the statements themselves. What is cached here is only
the SQL text and how to read its row back; every value is a bound parameter, prepared by
its field exactly as the ORM prepares it.

Per connection (Django keeps one per thread and database), so a cached plan is only ever
used on the connection that compiled it: nothing is shared between gunicorn's threads.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import connections, router
from django.db.models import Model, QuerySet, signals
from django.db.models.query import get_related_populators

# connection -> name -> plan
_PLANS: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()

# A value no lookup will ever be asked for, put where the looked-up value goes so that its
# parameter can be found in the compiled SQL's parameters.
_MARK = -7_318_249_006_125_573


def _plans(connection) -> dict[Any, Any]:
    plans = _PLANS.get(connection)
    if plans is None:
        plans = _PLANS[connection] = {}
    return plans


# --- one row -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reader:
    """How a compiled query's rows become model instances, as Django's ModelIterable makes
    them (select_related objects and annotations filled; known related objects come only
    from a related manager's queryset, which is not one of these), worked out once."""

    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list
    annotations: dict[str, int]
    converters: list[tuple[int, list, Any]]

    @classmethod
    def of(cls, compiler, alias: str) -> _Reader:
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        expressions = [column[0] for column in select[0 : compiler.col_count]]
        return cls(
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, alias),
            annotations=dict(compiler.annotation_col_map or {}),
            converters=sorted(
                (position, convs, expression)
                for position, (convs, expression) in compiler.get_converters(expressions).items()
            ),
        )

    def instance(self, row: tuple, alias: str, connection) -> Model:
        if self.converters:
            row = list(row)
            for position, convs, expression in self.converters:
                for convert in convs:
                    row[position] = convert(row[position], expression, connection)
        obj = self.model.from_db(alias, self.init_list, row[self.start : self.end])
        for populator in self.populators:
            populator.populate(row, obj)
        for attribute, position in self.annotations.items():
            setattr(obj, attribute, row[position])
        return obj


@dataclass(frozen=True)
class _RowPlan:
    sql: str
    params: tuple
    slot: int
    reader: _Reader


def _row_plan(name: str, build: Callable[[Any], QuerySet], alias: str) -> _RowPlan:
    queryset = build(_MARK)
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    slots = [i for i, value in enumerate(params) if value == _MARK]
    if len(slots) != 1:
        raise ValueError(f"{name}: the looked-up value must be one parameter of the SQL")
    return _RowPlan(
        sql=sql, params=tuple(params), slot=slots[0], reader=_Reader.of(compiler, alias)
    )


def row_by(
    model: type[Model], name: str, build: Callable[[Any], QuerySet], value: Any
) -> Model | None:
    """build(value)'s one row as a model instance (select_related and annotations filled, as
    the queryset would give them), or None; build's SQL is compiled once per connection.

    `name` keys the cache (with the model): one name, one build. build(value) must use
    `value` as exactly one parameter of its SQL, and read at most one row (a lookup on a
    unique column).
    """
    alias = router.db_for_read(model)
    connection = connections[alias]
    plans = _plans(connection)
    key = (model._meta.label, name)
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _row_plan(name, build, alias)
    params = list(plan.params)
    params[plan.slot] = value
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return plan.reader.instance(row, alias, connection)


# --- insert --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _InsertPlan:
    head: str
    row: str
    returning: str
    fields: list
    returned: Any


def _insert_plan(model: type[Model], connection) -> _InsertPlan:
    meta = model._meta
    if meta.parents or any(f.generated or f.has_db_default() for f in meta.concrete_fields):
        raise ValueError(f"{meta.label}: only plain models (no parents, database defaults)")
    auto = meta.auto_field
    fields = [f for f in meta.local_concrete_fields if f is not auto]
    if any(hasattr(f, "get_placeholder") for f in fields):
        raise ValueError(f"{meta.label}: a field with its own placeholder")
    quote = connection.ops.quote_name
    # Table and column names come from the model; every value is a bound parameter.
    columns = ", ".join(quote(f.column) for f in fields)
    return _InsertPlan(
        head=f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ",  # noqa: S608
        row="(" + ", ".join(["%s"] * len(fields)) + ")",
        returning=f" RETURNING {quote(auto.column)}" if auto else "",
        fields=fields,
        returned=auto,
    )


def insert(*batches: Sequence[Model]) -> None:
    """INSERT new rows, each batch of one model in one statement, as Model.save() would
    write them (each field's pre_save, then its database preparation); sets auto primary keys.

    On PostgreSQL several batches go as one statement (the earlier ones as data-modifying
    WITH clauses): one round trip instead of one each. A later batch may refer to an
    earlier one's rows (Django's foreign keys there are checked at commit); only the last
    batch may have an auto primary key to read back.

    Like bulk_create, and unlike save(), sends no pre_save or post_save signal: for a model
    that has receivers, this falls back to save(), one statement a row, so none is missed.
    """
    batches = tuple(batch for batch in batches if batch)
    if not batches:
        return
    alias = router.db_for_write(type(batches[0][0]))
    connection = connections[alias]
    plans = [_insert_plan_for(type(batch[0]), connection) for batch in batches]
    plain = [
        _plain(type(batch[0]), alias)
        and (not plan.returning or connection.features.can_return_rows_from_bulk_insert)
        for batch, plan in zip(batches, plans, strict=True)
    ]
    together = (
        connection.vendor == "postgresql"
        and all(plain)
        and not any(plan.returning for plan in plans[:-1])
    )
    if len(batches) > 1 and not together:
        for batch in batches:
            insert(batch)
        return
    if not plain[0]:
        for obj in batches[0]:
            obj.save(force_insert=True, using=alias)
        return

    clauses: list[str] = []
    params: list[Any] = []
    for batch, plan in zip(batches, plans, strict=True):
        clauses.append(_values_clause(batch, plan, connection, params))
    *earlier, last = clauses
    sql = last + plans[-1].returning
    if earlier:
        sql = "WITH " + ", ".join(f"w{n} AS ({c})" for n, c in enumerate(earlier)) + " " + sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # RETURNING gives the rows in the order of VALUES (as bulk_create relies on too).
        ids = cursor.fetchall() if plans[-1].returning else []
    for obj, returned in zip(batches[-1], ids or [None] * len(batches[-1]), strict=True):
        if returned is not None:
            setattr(obj, plans[-1].returned.attname, returned[0])
    for batch in batches:
        _mark_saved(batch, alias)


def _plain(model: type[Model], alias: str) -> bool:
    """Whether model's rows may go in by a plain INSERT on alias: its database, and no
    pre_save or post_save receiver that save() would have called."""
    return (
        router.db_for_write(model) == alias
        and not signals.pre_save.has_listeners(model)
        and not signals.post_save.has_listeners(model)
    )


def _mark_saved(batch: Sequence[Model], alias: str) -> None:
    for obj in batch:
        obj._state.adding = False
        obj._state.db = alias


def _values_clause(batch: Sequence[Model], plan: _InsertPlan, connection, params: list) -> str:
    """The INSERT of batch's rows (no RETURNING), their values appended to params."""
    for obj in batch:
        # As save() and bulk_create do: refuse an unsaved related object, take a saved
        # one's id.
        obj._prepare_related_fields_for_save(operation_name="insert")
        params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in plan.fields)
    return plan.head + ", ".join([plan.row] * len(batch))


def insert_with(
    batch: Sequence[Model], sql: str, params: Sequence[Any], connection
) -> tuple[str, list] | None:
    """A SELECT (sql, params) to run on connection that also INSERTs batch's rows, as a
    data-modifying WITH clause ahead of it: one statement, one round trip (its text fixed,
    so prepared like any other). The rows' auto keys are not read back. None where insert()
    would not write them so (not PostgreSQL, signals, another database): insert them on
    their own then."""
    model = type(batch[0])
    connection = connections[connection.alias]  # the connection itself, not django.db's proxy
    if connection.vendor != "postgresql" or not _plain(model, connection.alias):
        return None
    values: list[Any] = []
    clause = _values_clause(batch, _insert_plan_for(model, connection), connection, values)
    _mark_saved(batch, connection.alias)
    # Table and column names come from the model, the SELECT from the caller's compiled SQL.
    return f"WITH w AS ({clause}) {sql}", [*values, *params]


def _insert_plan_for(model: type[Model], connection) -> _InsertPlan:
    plans = _plans(connection)
    key = ("insert", model._meta.label)
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _insert_plan(model, connection)
    return plan


def update(model: type[Model], pk: Any, **values: Any) -> int:
    """UPDATE one row's fields by primary key, each value prepared by its field as
    QuerySet.update() prepares it; how many rows changed (0 or 1)."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    plans = _plans(connection)
    key = ("update", model._meta.label, tuple(values))
    plan = plans.get(key)
    if plan is None:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = [meta.get_field(name) for name in values]
        if any(not f.concrete or f.primary_key or hasattr(f, "get_placeholder") for f in fields):
            raise ValueError(f"{meta.label}: only plain columns may be updated here")
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        # Table and column names come from the model; every value is a bound parameter.
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
        plan = plans[key] = (sql, fields)
    sql, fields = plan
    params = [
        f.get_db_prep_save(value, connection)
        for f, value in zip(fields, values.values(), strict=True)
    ]
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- many rows, several values ---------------------------------------------------------------
# A query's SQL text depends only on its shape, so it is compiled once from sentinel values
# (values no real call sends); each sentinel's places among the parameters are noted, and
# later calls fill those places with their own values. directory/search/ uses the templates
# for its own statements.


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


class _RowsPlan(NamedTuple):
    sql: str
    template: tuple
    reader: _Reader


def rows_by(
    name: str, build: Callable[..., QuerySet], sentinels: dict[str, Any], values: dict[str, Any]
) -> list[Model]:
    """build(**values)'s model instances (select_related and annotations filled), from SQL
    compiled once per connection from build(**sentinels). When a sentinel is not found among
    the parameters (the ORM wrote a value into the text), every call runs build's queryset
    instead. `name` keys the cache: one name, one build."""
    alias = "default"
    connection = connections[alias]
    plans = _plans(connection)
    key = ("rows", name)
    if key not in plans:
        compiler = build(**sentinels).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        template, found = parameter_template(list(params), sentinel_slots(sentinels, alias))
        usable = found == set(sentinels)
        plans[key] = _RowsPlan(sql, template, _Reader.of(compiler, alias)) if usable else None
    plan = plans[key]
    if plan is None:
        return list(build(**values))
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, fill(plan.template, values, alias))
        rows = cursor.fetchall()
    return [plan.reader.instance(row, alias, connection) for row in rows]
