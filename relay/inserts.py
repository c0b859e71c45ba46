"""Writes on the hot path, each with a statement built once per model (and fields): building
it through the ORM every time costs more than running it. Rows go in as
Model.save() would put them (no model signals are connected to these tables); what a round
of webhooks holds back (relay/deferred.py) is written before any of them.

A row that may be there already goes in with `INSERT ... ON CONFLICT DO NOTHING`: catching
IntegrityError instead makes PostgreSQL log the refused statement, with every value it
carried (a message's text among them)."""

import weakref
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

from relay import deferred


def insert_row(obj: models.Model) -> None:
    """Insert `obj`; its pk is set."""
    _insert(obj, unless_present=False)


def insert_unless_present(obj: models.Model) -> bool:
    """Insert `obj`; True (and its pk set) if it was inserted, False if it was not because a
    row with one of its unique values exists."""
    return _insert(obj, unless_present=True)


def insert_many(objs: list[models.Model]) -> None:
    """Insert `objs` (of one model) in one statement; their pks are set."""
    deferred.writes_flush()
    for obj in objs:  # a related object saved after it was assigned gives its pk now
        obj._prepare_related_fields_for_save(operation_name="insert_many")
    if objs:
        for obj, (pk,) in zip(objs, _insert_many(objs, unless_present=False), strict=True):
            _saved(obj, pk)


def insert_many_unless_present(objs: list[models.Model], *, unique: str) -> list[models.Model]:
    """Insert `objs` (of one model) in one statement; the ones inserted, their pks set. One
    whose `unique` field holds a value taken, by a row there already or by an earlier one of
    `objs`, is not."""
    if not objs:
        return []
    key = type(objs[0])._meta.get_field(unique)
    pks = {value: pk for pk, value in _insert_many(objs, unless_present=True, returning=key)}
    inserted = []
    for obj in objs:
        pk = pks.pop(getattr(obj, key.attname), None)
        if pk is not None:
            _saved(obj, pk)
            inserted.append(obj)
    return inserted


def _insert_many(objs: list[models.Model], *, unless_present: bool, returning=None) -> list:
    """The rows RETURNING gives (pk, then `returning`'s value), in the order of `objs`."""
    model = type(objs[0])
    deferred.writes_flush()
    extra = (returning.column,) if returning else ()
    if connection.vendor == "postgresql":
        # One array per column: the statement is the same whatever the number of rows, so
        # it is converted and prepared once, and carries a handful of parameters.
        statement, fields = _unnest_statement(model, unless_present, extra)
        params = [
            [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs]
            for field in fields
        ]
    else:
        statement, fields = _insert_statement(model, unless_present=unless_present)
        head, _, tail = statement.partition(" VALUES ")
        row, _, _ = tail.partition(" ON CONFLICT")
        row = row.removesuffix(f" RETURNING {_quoted_pk(model)}")
        statement = f"{head} VALUES {', '.join([row] * len(objs))}"
        statement += _conflict_and_returning(model, unless_present, extra)
        params = [
            field.get_db_prep_save(field.pre_save(obj, True), connection)
            for obj in objs
            for field in fields
        ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


@cache
def _unnest_statement(model: type[models.Model], unless_present: bool, extra: tuple):
    fields = _insertable(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in fields)
    table = quote(model._meta.db_table)
    statement = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    return statement + _conflict_and_returning(model, unless_present, extra), fields


def _conflict_and_returning(model, unless_present: bool, extra: tuple) -> str:
    returning = ", ".join([_quoted_pk(model), *map(connection.ops.quote_name, extra)])
    return (" ON CONFLICT DO NOTHING" if unless_present else "") + f" RETURNING {returning}"


def _quoted_pk(model) -> str:
    return connection.ops.quote_name(model._meta.pk.column)


def _insertable(model: type[models.Model]) -> list[models.Field]:
    meta = model._meta
    return [field for field in meta.local_concrete_fields if field is not meta.auto_field]


def insert_fast(model: type[models.Model], **values) -> int:
    """Insert a row of `model` with `values` (the other fields take their defaults); its pk.
    For the webhook: no model instance is built, and on PostgreSQL the statement goes to
    psycopg through a cursor kept with the connection, past Django's cursor wrapper (which,
    with a new cursor each time, costs half what the INSERT does). Django's query logging and
    execute wrappers do not see it."""
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each use of `connection` is a lookup
    statement, fields = _insert_statement(model, unless_present=False)
    now = timezone.now()
    params = [
        field.get_db_prep_save(values[field.name], db)
        if field.name in values
        else _default(field, prepared, now)
        for field, prepared in zip(fields, _prepared_defaults(model), strict=True)
    ]
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchone()[0]
    with db.wrap_database_errors:  # a broken connection is then closed after the request
        return _kept_cursor(db).execute(statement, params).fetchone()[0]


_kept_cursors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _kept_cursor(db):
    """A psycopg cursor of this thread's connection, made once per connection."""
    db.ensure_connection()
    db.validate_no_broken_transaction()
    raw = db.connection
    cursor = _kept_cursors.get(raw)
    if cursor is None:
        cursor = _kept_cursors[raw] = raw.cursor()
    return cursor


def update_row(obj: models.Model, *names: str) -> None:
    """Write the fields `names` of `obj` to its row."""
    if obj.pk is None:  # a row a round still holds back (relay/deferred.py)
        deferred.writes_flush()
    statement, fields = _update_statement(type(obj), names)
    params = [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, obj.pk])


def update_many(objs: list[models.Model], *names: str) -> None:
    """Write the fields `names` of each of `objs` (of one model) to its row, in one statement
    on PostgreSQL (one array per column)."""
    if connection.vendor != "postgresql":
        for obj in objs:
            update_row(obj, *names)
        return
    statement, fields = _update_many_statement(type(objs[0]), names)
    params = [[obj.pk for obj in objs]] + [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def update_each(
    model: type[models.Model],
    name: str,
    values: dict,
    *,
    where: tuple[str, list] | None = None,
    **same,
) -> int:
    """In one statement, set field `name` of each row (by pk) to its value in `values`, and
    the fields in `same` to one value in all of them; with `where` (a field, its allowed
    values), only rows where that field holds one of them. How many rows changed."""
    meta = model._meta
    quote = connection.ops.quote_name
    pk, column = quote(meta.pk.column), meta.get_field(name)
    cases = " ".join(["WHEN %s THEN %s"] * len(values))
    params = [
        p
        for key, value in values.items()
        for p in (key, column.get_db_prep_save(value, connection))
    ]
    assignments = [f"{quote(column.column)} = CASE {pk} {cases} ELSE {quote(column.column)} END"]
    for other, value in same.items():
        field = meta.get_field(other)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    condition = f"{pk} IN ({', '.join(['%s'] * len(values))})"
    params += list(values)
    if where is not None:
        field, allowed = meta.get_field(where[0]), where[1]
        condition += f" AND {quote(field.column)} IN ({', '.join(['%s'] * len(allowed))})"
        params += allowed
    statement = f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} WHERE {condition}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _insert(obj: models.Model, *, unless_present: bool) -> bool:
    deferred.writes_flush()
    statement, fields = _insert_statement(type(obj), unless_present=unless_present)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    _saved(obj, row[0])
    return True


def _saved(obj: models.Model, pk) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


_EACH_TIME = object()


@cache
def _prepared_defaults(model: type[models.Model]) -> list:
    """Each insertable field's default as the database takes it, or _EACH_TIME where it is
    worked out for each row (a time stamp, a callable default)."""
    return [
        _EACH_TIME
        if _stamped(field) or (field.has_default() and callable(field.default))
        else field.get_db_prep_save(field.get_default(), connection)
        for field in _insertable(model)
    ]


def _default(field: models.Field, prepared, now):
    if prepared is not _EACH_TIME:
        return prepared
    if _stamped(field):
        return field.get_db_prep_save(now, connection)
    return field.get_db_prep_save(field.get_default(), connection)


def _stamped(field: models.Field) -> bool:
    return getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False)


@cache
def _insert_statement(model: type[models.Model], *, unless_present: bool) -> tuple[str, list]:
    meta = model._meta
    fields = _insertable(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    conflict = " ON CONFLICT DO NOTHING" if unless_present else ""
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    statement = f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict} RETURNING {pk}"  # noqa: S608
    return statement, fields


@cache
def _update_many_statement(model: type[models.Model], names: tuple[str, ...]):
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    assignments = ", ".join(f"{quote(f.column)} = v.c{n}" for n, f in enumerate(fields))
    arrays = ", ".join(
        [f"%s::{meta.pk.cast_db_type(connection)}[]"]
        + [f"%s::{field.cast_db_type(connection)}[]" for field in fields]
    )
    aliases = ", ".join(["pk", *(f"c{n}" for n in range(len(fields)))])
    statement = (
        f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({aliases}) "  # noqa: S608
        f"WHERE {table}.{pk} = v.pk"
    )
    return statement, fields


@cache
def _update_statement(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, list]:
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    return f"UPDATE {table} SET {assignments} WHERE {pk} = %s", fields  # noqa: S608
