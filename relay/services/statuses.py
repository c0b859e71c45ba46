"""Delivery status webhooks: sent, delivered, read, failed. Progress never goes backwards."""

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from relay.audit import audit_record
from relay.choices import STATUS_RANK, Direction, MessageStatus
from relay.models import Message
from relay.providers.base import Failure
from relay.providers.whatsapp import classify
from relay.services import outbound
from relay.services.windows import leg_window_closed

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
            audit_record("status.unknown_message", status=raw.get("status"))
            return None
        status = raw.get("status")
        at = unix_time(raw.get("timestamp"))
        if status == "failed":
            _apply_failure(message, raw.get("errors") or [])
        elif status in STAMPS:
            _apply_progress(message, MessageStatus(status), at)
        else:  # "played" and whatever comes next: kept in the audit log only
            audit_record("status.other", message=message, status=status)
    return message


def _find(raw: dict) -> Message | None:
    outbound_messages = Message.objects.select_for_update().filter(direction=Direction.OUTBOUND)
    message = outbound_messages.filter(provider_message_id=raw.get("id")).first()
    reference = raw.get("biz_opaque_callback_data") or ""
    if message is None and reference.isdigit():
        # A send that timed out: WhatsApp did take it, and this tells us its id.
        message = outbound_messages.filter(
            pk=int(reference), provider_message_id__isnull=True
        ).first()
        if message is not None:
            message.provider_message_id = raw.get("id")
            if message.status == MessageStatus.UNCERTAIN:
                message.status = MessageStatus.SENT
            message.save(update_fields=["provider_message_id", "status"])
            audit_record("message.reconciled", message=message)
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
        audit_record(f"message.{status}", message=message)


def _apply_failure(message: Message, errors: list[dict]) -> None:
    if message.status in (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED):
        return
    error = errors[0] if errors else {}
    code = error.get("code")
    reason = (error.get("error_data") or {}).get("details") or error.get("title") or "failed"
    if code == 131047:
        leg_window_closed(message)
        return
    if classify(code, 200) is Failure.HALT:
        outbound.outbound_halt(code=code, reason=reason)
    outbound.message_fail(message=message, code=code, reason=reason)


def unix_time(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError):
        return timezone.now()
