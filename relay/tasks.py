"""Background work: each task loads rows by id and calls one service."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from relay.choices import Direction, MessageStatus
from relay.models import Message, WebhookPayload
from relay.services import outbound
from relay.services.sessions import sessions_expire_lapsed
from relay.services.webhooks import webhook_process

# Periodic jobs, by schedule name: (task, every so many minutes). `setup_schedules` installs them.
SCHEDULES = {
    "relay.sweep": ("relay.tasks.sweep", 1),
}


def process_webhook(payload_id: int) -> None:
    webhook_process(payload_id=payload_id)


def deliver_message(message_id: int) -> None:
    outbound.message_deliver(message_id)


def deliver_in_order(message_ids: list[int]) -> None:
    for message_id in message_ids:
        outbound.message_deliver(message_id)


def sweep() -> None:
    """Every minute: retries that are due, sends a dead worker left half-done, webhooks
    whose handling failed, sessions that went idle."""
    now = timezone.now()
    due = Message.objects.filter(direction=Direction.OUTBOUND, status=MessageStatus.QUEUED).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=1))
    )
    deliver_in_order(list(due.order_by("id").values_list("id", flat=True)[:500]))
    outbound.messages_reconcile_stuck(now=now)
    stale = WebhookPayload.objects.filter(
        processed_at__isnull=True, received_at__lte=now - timedelta(minutes=1)
    )
    for payload_id in stale.values_list("id", flat=True)[:100]:
        webhook_process(payload_id=payload_id)
    sessions_expire_lapsed()
