"""What an agent does with a message held for them (a mediated session, or one in triage):
pass it on as it is, pass on an edit (the original is kept as written), answer the writer
instead, or discard it with a reason. Each is on the timeline, by the agent."""

from django.db import transaction

from relay.choices import CAPTIONED_TYPES, EventKind, MessageStatus, MessageType, Origin
from relay.exceptions import NotFound, RelayError, SessionNotLive
from relay.models import Message
from relay.services.messages import message_set_status, message_state_save
from relay.services.queueing import message_queue
from relay.services.relaying import inbound_relay
from relay.timeline import Actor, timeline_record

EDITABLE_TYPES = CAPTIONED_TYPES | {"text"}


def held_message(session, message_id: int) -> Message:
    """The message of `session` that waits for an agent, locked until the change is made."""
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("participant__session", "contact", "proxy_number")
        .filter(session=session, pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound(f"session {session.pk} has no message {message_id}")
    if message.status != MessageStatus.AWAITING_AGENT:
        raise RelayError(
            f"message {message_id} is not waiting for an agent: it is "
            f"{message.get_status_display().lower()}",
            field="message",
        )
    if not session.is_live():
        raise SessionNotLive("the session is closed or expired; reopen it first")
    if message.participant is None or not message.participant.active:
        raise RelayError("its writer has left the session (it was rerouted): discard it")
    return message


@transaction.atomic
def held_forward(*, session, message_id: int, actor: Actor, text: str | None = None) -> Message:
    """Pass the held message on to the other side, or `text` in its place (an edit)."""
    message = held_message(session, message_id)
    if session.partner_id is None:
        raise RelayError("this session waits in triage: route it to a partner first")
    if message.type == MessageType.REACTION:
        raise RelayError("a reaction is not passed on in a mediated session; discard it")
    if text is not None and message.type not in EDITABLE_TYPES:
        raise RelayError(f"a {message.type} message has no text to edit", field="text")
    if text is not None and not text.strip():
        raise RelayError("the edited text is empty", field="text")
    inbound_relay(message=message, participant=message.participant, text=text)
    message_state_save(message)
    if message.status == MessageStatus.PENDING:  # not refused as empty, say
        timeline_record(
            EventKind.MESSAGE_FORWARDED, message=message, actor=actor, edited=text is not None
        )
    return message


@transaction.atomic
def held_answer(*, session, message_id: int, actor: Actor, text: str) -> list[Message]:
    """Answer the writer of the held message instead of passing it on."""
    message = held_message(session, message_id)
    if not text.strip():
        raise RelayError("the answer is empty", field="text")
    answer = message_queue(
        participant=message.participant, origin=Origin.API, body=text, reply_to=message, actor=actor
    )
    message_set_status(message, MessageStatus.ANSWERED, "answered by an agent, not passed on")
    message_state_save(message)
    timeline_record(EventKind.MESSAGE_ANSWERED, message=message, actor=actor, answer=answer[0].pk)
    return answer


@transaction.atomic
def held_discard(*, session, message_id: int, actor: Actor, reason: str) -> Message:
    """Drop the held message: nobody receives it; the reason stays with it."""
    message = held_message(session, message_id)
    if not reason.strip():
        raise RelayError("say why it is discarded", field="reason")
    message_set_status(message, MessageStatus.DISCARDED, f"discarded: {reason.strip()}"[:300])
    message_state_save(message)
    timeline_record(EventKind.MESSAGE_DISCARDED, message=message, actor=actor)
    return message
