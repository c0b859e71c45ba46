"""The relay's own tables are its queues: stored webhooks and outbound messages are claimed
by the workers of `manage.py worker`, which look for due rows all the time. Nothing is queued
per message beyond those rows.

With RELAY_INLINE_WORK (the tests, the benchmark) there are no workers: the work a
transaction makes runs in this process right after it commits."""

from django.conf import settings
from django.db import transaction


def wake() -> None:
    """There is new work: once this transaction commits, it is done (inline), or a worker
    finds it (otherwise)."""
    if settings.RELAY_INLINE_WORK:
        transaction.on_commit(_work_inline)


def after_commit(work) -> None:
    """Best-effort work outside the transaction, once it has committed (a read receipt)."""
    transaction.on_commit(work)


def _work_inline() -> None:
    from relay.worker import drain

    drain()
