"""Delivery status webhooks: sent, delivered, read, failed. Progress never goes backwards."""

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from relay.choices import STATUS_RANK, Direction, EventKind, MessageStatus, Origin
from relay.models import Message
from relay.providers.base import Failure
from relay.providers.whatsapp import classify
from relay.queue import after_commit
from relay.services.delivery import message_fail, message_mirror_read, message_source_settled
from relay.services.holds import outbound_halt
from relay.services.windows import leg_window_closed
from relay.timeline import timeline_record

# A failure reported after these changes nothing.
FINAL = (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED)
PROGRESS_EVENTS = {
    MessageStatus.SENT: EventKind.MESSAGE_SENT,
    MessageStatus.DELIVERED: EventKind.MESSAGE_DELIVERED,
    MessageStatus.READ: EventKind.MESSAGE_READ,
}
STAMPS = {
    MessageStatus.SENT: "sent_at",
    MessageStatus.DELIVERED: "delivered_at",
    MessageStatus.READ: "read_at",
}


def status_apply(raw: dict) -> Message | None:
    """Apply one `statuses[]` item to the outbound message it names."""
    with transaction.atomic():
        message = _find(raw)
        if message is None:
            timeline_record(EventKind.WEBHOOK_UNKNOWN_STATUS, status=str(raw.get("status")))
            return None
        if _window_refusal(raw):
            # Locks the leg before the message, as every sender does.
            if message.status not in FINAL:
                leg_window_closed(message)
            return message
        message = Message.objects.select_for_update().get(pk=message.pk)
        status = raw.get("status")
        if status == "failed":
            _apply_failure(message, raw.get("errors") or [])
        elif status in STAMPS:
            _apply_progress(message, MessageStatus(status), unix_time(raw.get("timestamp")))
        else:  # "played" and whatever comes next: kept on the timeline only
            timeline_record(EventKind.MESSAGE_STATUS_OTHER, message=message, status=str(status))
    return message


def _window_refusal(raw: dict) -> bool:
    errors = raw.get("errors") or [{}]
    return raw.get("status") == "failed" and errors[0].get("code") == 131047


def _find(raw: dict) -> Message | None:
    outbound_messages = Message.objects.filter(direction=Direction.OUTBOUND)
    message = outbound_messages.filter(provider_message_id=raw.get("id")).first()
    reference = raw.get("biz_opaque_callback_data") or ""
    if message is None and reference.isdigit():
        # A send that timed out: WhatsApp did take it, and this tells us its id.
        reconciled = outbound_messages.filter(pk=int(reference), provider_message_id__isnull=True)
        if reconciled.update(provider_message_id=raw.get("id")):
            reconciled = Message.objects.filter(pk=int(reference))
            reconciled.filter(status=MessageStatus.UNCERTAIN).update(status=MessageStatus.SENT)
            message = reconciled.get()
            timeline_record(EventKind.MESSAGE_RECONCILED, message=message)
    return message


def _apply_progress(message: Message, status: MessageStatus, at: datetime) -> None:
    stamp = STAMPS[status]
    if getattr(message, stamp) is not None and status != MessageStatus.SENT:
        return  # the same status again
    fields = {}
    if getattr(message, stamp) is None:
        fields[stamp] = at
    if message.status != MessageStatus.FAILED and STATUS_RANK[status] > STATUS_RANK.get(
        message.status, 0
    ):
        fields["status"] = status
    if fields:
        Message.objects.filter(pk=message.pk).update(**fields)
        timeline_record(PROGRESS_EVENTS[status], message=message)
        # A send that timed out is confirmed only here: its source is relayed now.
        message_source_settled(message, MessageStatus.RELAYED)
    if stamp in fields and status == MessageStatus.READ and message.origin == Origin.RELAYED:
        # The other side read it: the writer sees blue ticks on their original.
        source_id = message.source_id
        after_commit(lambda: message_mirror_read(source_id))


def _apply_failure(message: Message, errors: list[dict]) -> None:
    if message.status in FINAL:
        return
    error = errors[0] if errors else {}
    code = error.get("code")
    reason = (error.get("error_data") or {}).get("details") or error.get("title") or "failed"
    if classify(code, 200) is Failure.HALT:
        outbound_halt(code=code, reason=reason)
    message_fail(message=message, code=code, reason=reason)


def unix_time(value) -> datetime:
    """A webhook's timestamp; now, for one that is missing, unreadable or in the future."""
    now = timezone.now()
    try:
        return min(datetime.fromtimestamp(int(value), tz=UTC), now)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
