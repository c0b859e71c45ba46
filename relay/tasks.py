"""Periodic work, run by django-q2's cluster: each job calls services. The hot path (webhooks
and outbound messages) is not here: the workers of relay/worker.py claim it from its tables."""

import logging

from django.utils import timezone

from relay.services.delivery import messages_reconcile_stuck
from relay.services.handovers import handovers_expire
from relay.services.sessions import sessions_expire_lapsed
from relay.services.slots import reminders_send
from relay.services.templates import templates_sync
from relay.services.threads import inbound_expire_unchosen

logger = logging.getLogger(__name__)

# Periodic jobs, by schedule name: (task, every so many minutes). `setup_schedules` installs them.
SCHEDULES = {
    "relay.sweep": ("relay.tasks.sweep", 1),
    "relay.sync_templates": ("relay.tasks.sync_templates", 24 * 60),
    "sla.clocks": ("sla.tasks.clocks_run", 1),
}


def sync_templates() -> None:
    templates_sync()


def sweep() -> None:
    """Every minute: sends a dead worker left half-done, sessions that went idle, messages
    whose sender never chose a booking, handovers nobody finished, reminders that are due.
    One failing step does not stop the rest."""
    now = timezone.now()
    for step in (_reconcile, _expire, _remind):
        try:
            step(now)
        except Exception:
            logger.exception("sweep step %s failed", step.__name__)


def _reconcile(now) -> None:
    messages_reconcile_stuck(now=now)


def _expire(now) -> None:
    sessions_expire_lapsed()
    inbound_expire_unchosen(now=now)
    handovers_expire(now=now)


def _remind(now) -> None:
    reminders_send(now=now)
