"""Putting outbound messages on the queue: stored first, delivered by a worker after commit."""

from django.db import transaction

from relay import payloads
from relay.choices import CAPTIONED_TYPES, Direction, EventKind, MessageStatus, Origin, TextKey
from relay.deferred import insert_later
from relay.exceptions import SessionNotLive
from relay.models import Contact, Message, Participant, ProxyNumber
from relay.queue import wake
from relay.selectors import reader_language
from relay.texts import text_render
from relay.timeline import SYSTEM, Actor, timeline_record


@transaction.atomic(savepoint=False)  # all or nothing with the caller's change
def message_queue(
    *,
    participant: Participant,
    origin: str,
    type: str = "text",
    body: str = "",
    payload: dict | None = None,
    source: Message | None = None,
    reply_to: Message | None = None,
    actor: Actor | None = None,
) -> list[Message]:
    """Store an outbound message to `participant` and queue its delivery.

    Text over WhatsApp's limit becomes several messages; a caption over its limit is cut and
    the rest follows as text.
    """
    body = _with_thread_tag(participant, body, type)
    common = {
        "participant": participant,
        "session": participant.session,
        "origin": origin,
        "source": source,
    }
    if actor is None:  # a relayed copy speaks for its source's writer
        actor = Actor.of_message(source) if source is not None else SYSTEM
    texts = []
    if type == "text":
        first, *texts = payloads.split_text(body)
        body = first
    elif type in CAPTIONED_TYPES and len(body) > payloads.CAPTION_LIMIT:
        texts = payloads.split_text(body[payloads.CAPTION_LIMIT :])
        body = body[: payloads.CAPTION_LIMIT]
    messages = [
        _create(common, actor, type=type, body=body, payload=payload or {}, reply_to=reply_to)
    ]
    messages += [
        _create(common, actor, type="text", body=text, payload={}, reply_to=None) for text in texts
    ]
    wake()
    return messages


@transaction.atomic
def session_message_send(
    *, session, to_role: str, text: str, actor: Actor = SYSTEM
) -> list[Message]:
    """The aggregator writes to one participant of a live session (API, agents)."""
    if not session.is_live():
        raise SessionNotLive("session is closed or expired; reopen it first")
    participants = session.participants.select_related("contact", "proxy_number")
    participant = participants.filter(active=True, role=to_role).first()
    if participant is None:
        raise SessionNotLive(f"this session has no {to_role} yet; route it first")
    return message_queue(participant=participant, origin=Origin.API, body=text, actor=actor)


@transaction.atomic(savepoint=False)
def notice_queue(
    *,
    contact: Contact,
    proxy_number: ProxyNumber,
    text: str = "",
    session=None,
    participant=None,
    interactive: dict | None = None,
) -> Message:
    """A short message from the relay itself (text, or an interactive list) to someone who
    has just written to us."""
    message = Message.objects.create(
        direction=Direction.OUTBOUND,
        origin=Origin.NOTICE,
        contact=contact,
        proxy_number=proxy_number,
        session=session,
        participant=participant,
        type="interactive" if interactive else "text",
        body=text,
        payload={"interactive": interactive} if interactive else {},
        status=MessageStatus.QUEUED,
    )
    timeline_record(EventKind.MESSAGE_QUEUED, message=message, origin=message.origin)
    wake()
    return message


def notice_send(
    *,
    contact: Contact,
    proxy_number: ProxyNumber,
    key: TextKey,
    session=None,
    participant=None,
    **values,
) -> Message:
    """One of Switchboard's own texts (relay/texts.py), in its reader's language."""
    text = text_render(key, language=reader_language(contact, proxy_number), **values)
    return notice_queue(
        contact=contact,
        proxy_number=proxy_number,
        text=text,
        session=session,
        participant=participant,
    )


def template_message_queue(
    *, to: Participant | Message, template, values: list[str], origin: str
) -> Message:
    """Store an approved template to `to` (a participant, or the recipient of a message that
    waits), with `values` for its parameters; it goes whatever the 24-hour window."""
    participant = to if isinstance(to, Participant) else to.participant
    message = Message.objects.create(
        direction=Direction.OUTBOUND,
        origin=origin,
        session=to.session,
        participant=participant,
        contact=to.contact,
        proxy_number=to.proxy_number,
        type="template",
        body=template.render(values),
        payload={
            "name": template.name,
            "language": template.language,
            "parameters": values,
            "parameter_names": template.parameter_names if template.named_parameters else [],
        },
        status=MessageStatus.QUEUED,
    )
    wake()
    return message


def _create(
    common: dict, actor: Actor, *, type: str, body: str, payload: dict, reply_to
) -> Message:
    participant = common["participant"]
    message = Message(
        direction=Direction.OUTBOUND,
        contact=participant.contact,
        proxy_number=participant.proxy_number,
        type=type,
        body=body,
        payload=payload,
        reply_to=reply_to,
        status=MessageStatus.QUEUED,
        **common,
    )
    insert_later(message)  # in a round of webhooks, with the round's other copies
    timeline_record(EventKind.MESSAGE_QUEUED, message=message, actor=actor, origin=message.origin)
    return message


def _with_thread_tag(participant: Participant, body: str, type: str) -> str:
    """On a number this contact shares between sessions, say which session speaks."""
    if not participant.multiplexed or (type not in CAPTIONED_TYPES and type != "text"):
        return body
    return f"#{participant.thread_tag} · {participant.session.external_ref}\n{body}"
