"""Rows a worker's round of inbound messages will need, read in one query per table before
the messages are handled one by one in the round's transaction. Each row is handed out once:
a second look at the same row reads it again, as it would without a round, so that what an
earlier message of the round changed is seen."""

import threading
from contextlib import contextmanager

_rounds = threading.local()


@contextmanager
def prefetching():
    """A round: rows put in it are handed out until it ends."""
    _rounds.rows = {}
    try:
        yield
    finally:
        _rounds.rows = None


def in_a_round() -> bool:
    return getattr(_rounds, "rows", None) is not None


def prefetch_put(kind: str, key, row) -> None:
    rows = getattr(_rounds, "rows", None)
    if rows is not None:
        rows[kind, key] = row


def prefetch_take(kind: str, key):
    """The row put under `key`, once; None outside a round or when there is none."""
    rows = getattr(_rounds, "rows", None)
    return rows.pop((kind, key), None) if rows else None


def prefetch_forget(kind: str) -> None:
    """What was put of `kind` may be out of date now: it is read again when needed."""
    rows = getattr(_rounds, "rows", None)
    if rows:
        for key in [key for key in rows if key[0] == kind]:
            del rows[key]
