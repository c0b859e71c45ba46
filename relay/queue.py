from django.db import transaction
from django_q.tasks import async_task


def enqueue(task: str, *args) -> None:
    """Queue a background task once the current transaction has committed, so the worker
    never looks for rows that are not there yet."""
    transaction.on_commit(lambda: async_task(task, *args))
