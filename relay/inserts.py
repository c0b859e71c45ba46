"""Inserting a row unless one with the same unique value is there already, without an error:
`INSERT ... ON CONFLICT DO NOTHING`. Catching IntegrityError instead makes PostgreSQL log the
refused statement, with every value it carried (a message's text among them)."""

from functools import cache

from django.db import connection, models
from django.db.models.constants import OnConflict
from django.utils import timezone


def insert_unless_present(obj: models.Model) -> bool:
    """Insert `obj`; True (and its pk set) if it was inserted, False if it was not because a
    row with one of its unique values exists."""
    meta = obj._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    # The manager's _insert is what Model.save() itself uses; it takes ON CONFLICT.
    rows = type(obj)._base_manager._insert(
        [obj], fields=fields, returning_fields=[meta.pk], on_conflict=OnConflict.IGNORE
    )
    if not rows or rows[0] is None:
        return False
    obj.pk = rows[0][0]
    obj._state.adding = False
    obj._state.db = "default"
    return True


def insert_fast(model: type[models.Model], **values) -> int:
    """Insert a row of `model` with `values` (the other fields take their defaults) in one
    statement made once per model; its pk. For the webhook, where building the statement
    and the model instance through the ORM each time costs more than running it."""
    statement, fields, defaults = _statement(model)
    params = [
        field.get_db_prep_save(values[field.name], connection)
        if field.name in values
        else _fresh_default(field, defaults[field.name])
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def _fresh_default(field, prepared):
    if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
        return field.get_db_prep_save(timezone.now(), connection)
    return prepared


@cache
def _statement(model: type[models.Model]) -> tuple[str, list, dict]:
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    statement = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    defaults = {
        field.name: field.get_db_prep_save(field.get_default(), connection) for field in fields
    }
    return statement, fields, defaults
