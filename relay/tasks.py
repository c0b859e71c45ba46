"""Background work: each task loads rows by id and calls one service."""

import logging
from datetime import timedelta
from time import sleep

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from relay.choices import Direction, MessageStatus
from relay.models import Message, WebhookPayload
from relay.services.delivery import message_deliver, message_mirror_read, messages_reconcile_stuck
from relay.services.queueing import messages_enqueue_by_leg
from relay.services.sessions import sessions_expire_lapsed
from relay.services.templates import templates_sync
from relay.services.threads import inbound_expire_unchosen
from relay.services.webhooks import webhook_process

logger = logging.getLogger(__name__)

# Periodic jobs, by schedule name: (task, every so many minutes). `setup_schedules` installs them.
SCHEDULES = {
    "relay.sweep": ("relay.tasks.sweep", 1),
    "relay.sync_templates": ("relay.tasks.sync_templates", 24 * 60),
}
WEBHOOK_ATTEMPTS = 10
SWEEP_BATCH = 500


def process_webhook(payload_id: int) -> None:
    webhook_process(payload_id=payload_id)


def deliver_message(message_id: int) -> None:
    deliver_in_order([message_id])


def deliver_in_order(message_ids: list[int]) -> None:
    """Send the messages of one conversation, oldest first. One that must wait a few
    seconds (pacing, a short backoff) is waited for, up to RELAY_TASK_PATIENCE_SECONDS;
    longer waits are left to the sweep."""
    deadline = timezone.now() + timedelta(seconds=settings.RELAY_TASK_PATIENCE_SECONDS)
    pending = list(message_ids)
    while pending:
        for message_id in pending:
            try:
                message_deliver(message_id)
            except Exception:  # the next message of the leg still goes
                logger.exception("delivering message %s failed", message_id)
        waiting = Message.objects.filter(pk__in=pending, status=MessageStatus.QUEUED)
        due = waiting.exclude(next_attempt_at=None).order_by("next_attempt_at").first()
        if due is None:
            return
        if due.next_attempt_at > deadline:
            return
        sleep(max((due.next_attempt_at - timezone.now()).total_seconds(), 0))
        pending = list(waiting.order_by("id").values_list("id", flat=True))


def sync_templates() -> None:
    templates_sync()


def mirror_read(message_id: int | None) -> None:
    if message_id:
        message_mirror_read(message_id)


def sweep() -> None:
    """Every minute: retries that are due, sends a dead worker left half-done, webhooks
    whose handling failed, sessions that went idle. One failing step does not stop the rest."""
    now = timezone.now()
    for step in (_queue_due_messages, _reconcile, _reprocess_webhooks, _expire):
        try:
            step(now)
        except Exception:
            logger.exception("sweep step %s failed", step.__name__)


def _queue_due_messages(now) -> None:
    due = Message.objects.filter(direction=Direction.OUTBOUND, status=MessageStatus.QUEUED).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=1))
    )
    messages_enqueue_by_leg(list(due.order_by("id").values_list("id", flat=True)[:SWEEP_BATCH]))


def _reconcile(now) -> None:
    messages_reconcile_stuck(now=now)


def _reprocess_webhooks(now) -> None:
    failed = WebhookPayload.objects.filter(
        processed_at__isnull=True,
        received_at__lte=now - timedelta(minutes=1),
        attempts__lt=WEBHOOK_ATTEMPTS,
    ).order_by("id")
    for payload_id in failed.values_list("id", flat=True)[:100]:
        try:
            webhook_process(payload_id=payload_id)
        except Exception:  # counted in its attempts; the others still run
            logger.exception("webhook payload %s failed again", payload_id)


def _expire(now) -> None:
    sessions_expire_lapsed()
    inbound_expire_unchosen(now=now)
