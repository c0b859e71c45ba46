"""The state of one inbound message on its way through the steps: its status, the session it
turned out to belong to, a refusal with a short notice to its sender. The steps change it in
memory; message_state_save writes it once, when they are done."""

from relay.choices import EventKind, MessageStatus, RejectReason, TextKey
from relay.deferred import update_later
from relay.models import Message, Participant
from relay.services.queueing import notice_send
from relay.timeline import timeline_record


def message_set_status(message: Message, status: str, reason: str = "") -> None:
    message.status, message.status_reason = status, reason


def message_bind(message: Message, participant: Participant) -> None:
    """The message turned out to belong to `participant`'s session."""
    message.session, message.participant = participant.session, participant


def message_state_save(message: Message) -> None:
    """Write what the steps decided about the message, in one statement (in a round of
    webhooks, with the round's others: relay/deferred.py)."""
    update_later(message, "status", "status_reason", "session", "participant")


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
