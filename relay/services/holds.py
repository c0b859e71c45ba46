"""Pausing all sending (an expired token, a restricted account) and resuming it."""

from django.db import transaction
from django.utils import timezone

from relay.choices import Direction, EventKind, MessageStatus
from relay.models import Message, OutboundHold
from relay.queue import wake
from relay.services.alerts import alert_raise
from relay.timeline import timeline_record


def outbound_held() -> bool:
    return OutboundHold.objects.filter(cleared_at__isnull=True).exists()


@transaction.atomic
def outbound_halt(*, code: int | None, reason: str) -> None:
    if outbound_held():
        return
    OutboundHold.objects.create(error_code=code or 0, reason=reason)
    alert_raise(
        "outbound_halted", f"All sending is paused: WhatsApp refused with error {code}. {reason}"
    )
    timeline_record(EventKind.SENDING_HALTED, code=code)


@transaction.atomic
def outbound_resume() -> int:
    """Clear open holds and send what waited; returns how many messages wait to be sent."""
    OutboundHold.objects.filter(cleared_at__isnull=True).update(cleared_at=timezone.now())
    waiting = Message.objects.filter(direction=Direction.OUTBOUND, status=MessageStatus.QUEUED)
    count = waiting.count()
    timeline_record(EventKind.SENDING_RESUMED, queued=count)
    wake()
    return count
