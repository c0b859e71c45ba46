"""Writes a round of webhooks puts off to its end: the copies it queues go in with one INSERT,
the states its messages reach with one UPDATE. Before any other row is written, and where a
step reads rows the round may still hold back (`writes_flush`), what waits is written first:
ids keep the order rows were made in, and what is read is what was decided."""

import threading
from contextlib import contextmanager

from django.db import connection, models
from django.db.models.signals import pre_save

from relay import inserts

_waiting = threading.local()


@contextmanager
def writes_deferred():
    """Inside (and inside the round's transaction), `insert_later` and `update_later` wait
    for the block to end."""
    if getattr(_waiting, "inserts", None) is not None:
        yield  # an outer block writes them
        return
    _waiting.inserts, _waiting.updates = {}, {}
    try:
        yield
        writes_flush()
    finally:
        _waiting.inserts = _waiting.updates = None


def insert_later(obj: models.Model) -> None:
    """Insert `obj` when the enclosing block ends (at once outside one); its pk is set then."""
    waiting = getattr(_waiting, "inserts", None)
    if waiting is None:
        inserts.insert_row(obj)
    else:
        waiting.setdefault(type(obj), []).append(obj)


def update_later(obj: models.Model, *names: str) -> None:
    """Write the fields `names` of `obj` when the enclosing block ends (at once outside one),
    as they are then."""
    waiting = getattr(_waiting, "updates", None)
    if waiting is None or obj.pk is None or connection.vendor != "postgresql":
        inserts.update_row(obj, *names)
    else:
        waiting.setdefault((type(obj), names), {})[id(obj)] = obj


def writes_flush() -> None:
    """Write what waits in the enclosing block, if any."""
    waiting = getattr(_waiting, "inserts", None)
    while waiting:
        inserts.insert_many(waiting.pop(next(iter(waiting))))
    updates = getattr(_waiting, "updates", None)
    while updates:
        (_, names), objs = updates.popitem()
        inserts.update_many(list(objs.values()), *names)


def _flush_before_save(**kwargs) -> None:
    writes_flush()


pre_save.connect(_flush_before_save, dispatch_uid="relay.deferred.flush_before_save")
