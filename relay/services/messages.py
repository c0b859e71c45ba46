"""Small writes on one inbound message: its status, the session it turned out to belong to,
and refusing it with a short notice to its sender."""

from relay.choices import EventKind, MessageStatus, RejectReason, TextKey
from relay.models import Message, Participant
from relay.services.queueing import notice_send
from relay.timeline import timeline_record


def message_set_status(message: Message, status: str, reason: str = "") -> None:
    Message.objects.filter(pk=message.pk).update(status=status, status_reason=reason)
    message.status, message.status_reason = status, reason


def message_bind(message: Message, participant: Participant) -> None:
    """The message turned out to belong to `participant`'s session."""
    Message.objects.filter(pk=message.pk).update(
        session=participant.session, participant=participant
    )
    message.session, message.participant = participant.session, participant


def inbound_reject(message: Message, reason: RejectReason, notice: TextKey | None) -> None:
    """Not passed on, for `reason`; the sender is told `notice`, if any."""
    message_set_status(message, MessageStatus.REJECTED, reason.label)
    timeline_record(EventKind.MESSAGE_REJECTED, message=message, reason=reason, type=message.type)
    if notice:
        notice_send(
            contact=message.contact,
            proxy_number=message.proxy_number,
            key=notice,
            session=message.session,
        )
