"""Inserting a row unless one with the same unique value is there already, without an error:
`INSERT ... ON CONFLICT DO NOTHING`. Catching IntegrityError instead makes PostgreSQL log the
refused statement, with every value it carried (a message's text among them)."""

from django.db import models
from django.db.models.constants import OnConflict


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
