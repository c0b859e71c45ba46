"""The hot path's workers: each loop claims due webhooks and due outbound messages from
their tables (FOR UPDATE SKIP LOCKED, so any number of loops can run side by side), handles
them, and looks again. `manage.py worker` runs them beside django-q2's cluster, which keeps
the schedules."""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from relay.services.delivery import messages_send_due
from relay.services.webhooks import webhooks_process_due

logger = logging.getLogger(__name__)
_draining = threading.local()


def work_once() -> int:
    """One round: due webhooks, then due outbound messages; how many were handled."""
    batch = settings.RELAY_WORKER_BATCH
    return webhooks_process_due(limit=batch) + messages_send_due(limit=batch)


def drain() -> None:
    """Work until nothing is due (inline work: tests and the benchmark). Work that a round
    makes is done by the same call, not by a nested one."""
    if getattr(_draining, "active", False):
        return
    _draining.active = True
    try:
        while work_once():
            pass
    finally:
        _draining.active = False


def run(stop: threading.Event) -> None:
    """Loop until `stop` is set, resting a moment when nothing was due."""
    idle = settings.RELAY_WORKER_IDLE_SECONDS
    while not stop.is_set():
        try:
            handled = work_once()
        except Exception:  # a bad round must not end the loop; the rows stay due
            logger.exception("worker round failed")
            close_old_connections()
            handled = 0
        if not handled:
            time.sleep(idle)
