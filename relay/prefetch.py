"""Rows a worker's round of inbound messages will need, read in one query per table before
the messages are handled one by one in the round's transaction. Every message of the round
that needs a row gets the same object, so that what one message changes through it the next
one sees; sessions, which other paths change too, are read again after any change to one
(timeline.py forgets them)."""

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
    """The row put under `key`; None outside a round or when there is none."""
    rows = getattr(_rounds, "rows", None)
    return rows.get((kind, key)) if rows else None


def prefetch_forget(kind: str) -> None:
    """What was put of `kind` may be out of date now: it is read again when needed."""
    rows = getattr(_rounds, "rows", None)
    if rows:
        for key in [key for key in rows if key[0] == kind]:
            del rows[key]
