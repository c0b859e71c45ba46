"""Passing a message on to the other side of its session: the content as the other side
receives it (contact details hidden by the privacy guard), and the queued copy."""

from functools import cached_property

from relay import phones
from relay.choices import (
    MEDIA_TYPES,
    Direction,
    EventKind,
    MessageStatus,
    Origin,
    RejectReason,
    SessionMode,
    TextKey,
)
from relay.deferred import writes_flush
from relay.models import Contact, LeakageAttempt, Message, Participant, RelaySession
from relay.privacy import redact
from relay.selectors import contact_language
from relay.services.messages import inbound_reject, message_bind, message_set_status
from relay.services.queueing import message_queue
from relay.services.threads import message_quoted, thread_strip_tag
from relay.texts import Markers, text_render
from relay.timeline import timeline_record
from routing.selectors import references_in


def relay_copy(
    *,
    source: Message,
    to: Participant,
    type: str = "text",
    body: str = "",
    payload: dict | None = None,
    reply_to: Message | None = None,
) -> list[Message]:
    """Queue the copy of `source` that `to` receives. Direct relay, and whatever an agent
    passes on in a participant's name, goes through here. `source` is relayed once its copy
    has been sent (delivery.py); until then it is pending (the caller saves that state with
    message_state_save, as the inbound steps do)."""
    copies = message_queue(
        participant=to,
        origin=Origin.RELAYED,
        type=type,
        body=body,
        payload=payload,
        source=source,
        reply_to=reply_to,
    )
    message_set_status(source, MessageStatus.PENDING)
    return copies


def inbound_relay(*, message: Message, participant: Participant, text: str | None = None) -> None:
    """Relay `message` from `participant` to the other side of its session; `text`, an
    agent's edit, goes in place of what was written (the original is kept as it was)."""
    counterpart = counterpart_of(participant)
    region = phones.region_of(message.contact.phone)
    reader = Reader(counterpart.contact, participant.session)
    type_, body, payload = relay_content(message, region=region, reader=reader, text=text)
    body = thread_strip_tag(body, participant)
    if type_ == "text" and not body.strip():  # e.g. a flow reply: nothing we can pass on
        inbound_reject(message, RejectReason.UNSUPPORTED, TextKey.UNSUPPORTED)
        return
    relay_copy(
        source=message,
        to=counterpart,
        type=type_,
        body=body,
        payload=payload,
        reply_to=_counterpart_of_quoted(message, counterpart),
    )


class Reader:
    """Who reads the relayed copy; their language is looked up only if a text needs it."""

    def __init__(self, contact: Contact, session: RelaySession) -> None:
        self.contact, self.session = contact, session

    @cached_property
    def language(self) -> str:
        return contact_language(self.contact, self.session.pool)


def counterpart_of(participant: Participant) -> Participant:
    """The other side of the participant's session (found with it when it was looked up)."""
    known = getattr(participant, "counterpart", None)
    if known is not None:
        return known
    return (
        participant.session.participants.filter(active=True)
        .exclude(pk=participant.pk)
        .select_related("contact", "proxy_number")
        .get()
    )


def relay_content(
    message: Message, *, region: str | None, reader: Reader, text: str | None = None
) -> tuple[str, str, dict]:
    """What the other side receives: the same content, with contact details hidden unless
    the session was handed over. `region` is the writer's country; `text` replaces the text
    or caption written."""
    raw = message.payload
    kind = raw["type"]
    guard = _Guard(message, region, reader)
    if kind in MEDIA_TYPES:
        media = raw[kind]
        payload = {
            "media_id": media.get("id"),
            "from_phone_number_id": message.proxy_number.phone_number_id,
            "mime_type": media.get("mime_type", ""),
            "sha256": media.get("sha256", ""),
        }
        if media.get("filename"):
            payload["filename"] = guard(media["filename"])
        if media.get("animated"):
            payload["animated"] = True
        return kind, guard(media.get("caption", "") if text is None else text), payload
    if kind == "location":
        location = raw["location"]
        payload = {k: location.get(k) for k in ("latitude", "longitude")}
        payload |= {k: guard(location[k]) for k in ("name", "address") if location.get(k)}
        return "location", "", payload
    if kind == "contacts":
        if message.session.handed_over:
            return "contacts", "", {"contacts": raw["contacts"]}
        unnamed = text_render(TextKey.UNNAMED_CONTACT, language=reader.language)
        names = ", ".join(
            (card.get("name") or {}).get("formatted_name") or unnamed for card in raw["contacts"]
        )
        guard.record("phone", sum(len(card.get("phones") or []) for card in raw["contacts"]))
        card = text_render(TextKey.CONTACT_CARD, language=reader.language, names=guard(names))
        return "text", card, {}
    return "text", guard(message.body if text is None else text), {}


class _Guard:
    """Redacts each piece of text it is given and records what it removed as leakage."""

    def __init__(self, message: Message, region: str | None, reader: Reader) -> None:
        self.message, self.region = message, region
        self.markers = Markers(lambda: reader.language)
        self.active = not message.session.handed_over

    def references(self, text: str) -> list[str]:
        """What routing knows to be references in `text`: never hidden."""
        return [self.message.session.external_ref, *references_in(text, self.region)]

    def __call__(self, text: str) -> str:
        if not self.active or not text:
            return text
        result = redact(text, region=self.region, markers=self.markers, keep=self.references)
        for kind, count in result.found.items():
            self.record(kind, count)
        return result.text

    def record(self, kind: str, count: int) -> None:
        if not self.active or not count:
            return
        LeakageAttempt.objects.create(
            session=self.message.session, message=self.message, kind=kind, count=count
        )
        timeline_record(EventKind.MESSAGE_REDACTED, message=self.message, leak=kind, count=count)


def reaction_mirror(message: Message) -> None:
    """A reaction lands on the other side's copy of the message it reacts to."""
    reaction = message.payload.get("reaction") or {}
    target = message_quoted(message, reaction.get("message_id"))
    participant = _participant_for(target, message)
    if target is None or participant is None:
        inbound_reject(message, RejectReason.REACTION_TARGET_UNKNOWN, None)
        return
    if participant.session.mode == SessionMode.MEDIATED:
        message_bind(message, participant)
        message_set_status(message, MessageStatus.AWAITING_AGENT)
        return
    counterpart = counterpart_of(participant)
    mirrored = _twin_on_other_leg(target, counterpart)
    if mirrored is None or not mirrored.provider_message_id:
        inbound_reject(message, RejectReason.REACTION_TARGET_UNKNOWN, None)
        return
    message_bind(message, participant)
    relay_copy(
        source=message,
        to=counterpart,
        type="reaction",
        payload={"message_id": mirrored.provider_message_id, "emoji": reaction.get("emoji", "")},
    )


def _counterpart_of_quoted(message: Message, counterpart: Participant) -> Message | None:
    """The message on the other leg that matches the one being quoted here, if any."""
    quoted = message_quoted(message)
    return _twin_on_other_leg(quoted, counterpart) if quoted else None


def _twin_on_other_leg(message: Message, counterpart: Participant) -> Message | None:
    """A relayed message's original, or an original's relayed copy, on `counterpart`'s leg."""
    if message.direction == Direction.OUTBOUND:
        source = message.source
        return source if source and source.contact_id == counterpart.contact_id else None
    writes_flush()  # its copy may be one the round has not written yet
    return message.relays.filter(participant=counterpart).first()


def _participant_for(target: Message | None, message: Message) -> Participant | None:
    if target is None or target.session_id is None:
        return None
    return (
        Participant.objects.filter(session=target.session_id, contact=message.contact, active=True)
        .select_related("session")
        .first()
    )
