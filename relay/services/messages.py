"""Small writes on one inbound message: its status, the session it turned out to belong to,
and refusing it with a short notice to its sender."""

from relay.audit import audit_record
from relay.choices import MessageStatus
from relay.models import Message, Participant
from relay.services.queueing import notice_queue


def message_set_status(message: Message, status: str) -> None:
    Message.objects.filter(pk=message.pk).update(status=status)
    message.status = status


def message_bind(message: Message, participant: Participant) -> None:
    """The message turned out to belong to `participant`'s session."""
    Message.objects.filter(pk=message.pk).update(
        session=participant.session, participant=participant
    )
    message.session, message.participant = participant.session, participant


def inbound_reject(message: Message, reason: str, notice: str | None) -> None:
    """Not passed on, for `reason`; the sender is told `notice`, if any."""
    message_set_status(message, MessageStatus.REJECTED)
    audit_record(f"inbound.{reason}", message=message, type=(message.payload or {}).get("type"))
    if notice:
        notice_queue(
            contact=message.contact,
            proxy_number=message.proxy_number,
            text=notice,
            session=message.session,
        )
