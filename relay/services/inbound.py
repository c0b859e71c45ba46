"""Inbound messages: stored once, routed to their session, checked by the privacy guard and
relayed to the other side from that side's proxy number."""

import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from relay import phones
from relay.audit import audit_record
from relay.choices import MEDIA_TYPES, Direction, MessageStatus, Origin, SessionMode
from relay.models import LeakageAttempt, Leg, Message, Participant, ProxyNumber
from relay.privacy import redact
from relay.services import outbound
from relay.services.contacts import contact_change_number, contact_for_sender
from relay.services.sessions import session_expire, session_touch
from relay.services.statuses import unix_time
from relay.services.windows import leg_lock, leg_window_opened

RELAYABLE = MEDIA_TYPES | {"text", "location", "contacts", "interactive", "button"}
# What an inbound row keeps of Meta's message: its content, not who sent it (the contact,
# encrypted, says that) and not `system` notices, which carry old and new numbers.
KEPT_FIELDS = ("id", "timestamp", "type", "context", "errors")
CHOICE_ASKED_WITHIN = timedelta(hours=1)
TAG = re.compile(r"#([A-Za-z2-9]{4})\b")
THREAD_CHOICE = "thread:"
STRANGER_NOTICE_EVERY = timedelta(hours=1)
AMBIGUOUS = object()

NOTICE_STRANGER = (
    "Hello! This number only carries conversations about active bookings, and we could not "
    "find one for you here, so your message was not passed on."
)
NOTICE_UNSUPPORTED = (
    "Sorry, this kind of message can't be passed on. "
    "Please send text, a photo, a document or a location."
)
NOTICE_STALE = "Your message reached us too late to be passed on. Please send it again."
NOTICE_WHICH = "You have several conversations on this number. Which one is your message about?"
NOTICE_ENDED = "That conversation has ended, so your message was not passed on."


def inbound_receive(*, number: ProxyNumber, raw: dict, profile: dict) -> Message | None:
    """Store and handle one `messages[]` item. A WhatsApp message id seen before is ignored,
    so each message is relayed exactly once however often it is delivered."""
    wa_id = raw.get("from") or profile.get("wa_id")
    bsuid = raw.get("from_user_id") or profile.get("user_id")
    if not raw.get("id") or not (wa_id or bsuid):
        audit_record("inbound.malformed", number=number.e164)
        return None
    with transaction.atomic():
        contact = contact_for_sender(
            wa_id=wa_id, bsuid=bsuid, profile_name=(profile.get("profile") or {}).get("name", "")
        )
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    direction=Direction.INBOUND,
                    origin=Origin.PARTICIPANT,
                    contact=contact,
                    proxy_number=number,
                    type=raw.get("type")
                    if raw.get("type") in RELAYABLE | {"reaction"}
                    else "unsupported",
                    body=_text_of(raw),
                    payload=_kept(raw),
                    provider_message_id=raw["id"],
                    status=MessageStatus.RECEIVED,
                    wa_timestamp=unix_time(raw.get("timestamp")),
                )
        except IntegrityError:
            return None  # delivered before: already handled
        if raw.get("type") == "system":  # from WhatsApp, not the user: no window opens
            _system_event(message, raw.get("system") or {})
            return message
        leg = _open_window(message)
        _handle(message, leg)
    return message


def _system_event(message: Message, event: dict) -> None:
    """A user changed number: their contact takes the new one, so live sessions go on."""
    _set_status(message, MessageStatus.REJECTED)
    changed = event.get("type") == "user_changed_number" and event.get("wa_id")
    moved = changed and contact_change_number(contact=message.contact, wa_id=event["wa_id"])
    audit_record("inbound.system", message=message, event=event.get("type", ""), moved=bool(moved))


def _kept(raw: dict) -> dict:
    kind = raw.get("type")
    kept = {k: raw[k] for k in KEPT_FIELDS if k in raw}
    if kind in raw and kind != "system":
        kept[kind] = raw[kind]
    return kept


def _open_window(message: Message) -> Leg:
    """The sender just wrote: their window on this number is open, and what waited for
    them can go. The leg stays locked until the message is handled."""
    leg = leg_lock(contact=message.contact, proxy_number=message.proxy_number)
    at = message.wa_timestamp
    if leg.last_inbound_at is None or at > leg.last_inbound_at:
        Leg.objects.filter(pk=leg.pk).update(last_inbound_at=at)
        leg.last_inbound_at = at
    if leg.window_open():
        leg_window_opened(leg=leg)
    return leg


def _handle(message: Message, leg: Leg) -> None:
    raw = message.payload
    if message.wa_timestamp < timezone.now() - timedelta(hours=settings.RELAY_STALE_INBOUND_HOURS):
        _reject(message, "stale", NOTICE_STALE if leg.window_open() else None)
        return
    choice = ((raw.get("interactive") or {}).get("list_reply") or {}).get("id", "")
    if choice.startswith(THREAD_CHOICE):
        _thread_chosen(message, choice.removeprefix(THREAD_CHOICE))
        return
    if message.type == "reaction":
        _mirror_reaction(message)
        return
    if message.type == "unsupported":
        _reject(message, "unsupported", NOTICE_UNSUPPORTED)
        return
    candidates = _live_candidates(message)
    participant = _route(message, candidates)
    if participant is None:
        _out_of_session(message, leg)
    elif participant is AMBIGUOUS:
        _ask_which_thread(message, candidates)
    else:
        inbound_relay(message=message, participant=participant)


def _route(message: Message, candidates: list[Participant]):
    """The one of `candidates` (the live bindings of the message's pair) this message
    belongs to, None, or AMBIGUOUS."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    quoted = _quoted(message)
    for candidate in candidates:
        if quoted and quoted.session_id == candidate.session_id:
            return candidate
    tags = {tag.upper() for tag in TAG.findall(message.body)}
    matching = [c for c in candidates if c.thread_tag in tags]
    if len(matching) == 1:
        return matching[0]
    return AMBIGUOUS


def _live_candidates(message: Message) -> list[Participant]:
    candidates = []
    bindings = Participant.objects.filter(
        contact=message.contact, proxy_number=message.proxy_number, active=True
    ).select_related("session__partner")
    for participant in bindings:
        if participant.session.is_live():
            candidates.append(participant)
        else:
            session_expire(session=participant.session)
    return candidates


def inbound_relay(*, message: Message, participant: Participant) -> None:
    """Relay `message` from `participant` to the other side of its session."""
    session = participant.session
    _bind(message, participant)
    if not session_touch(session=session):  # it ended while this message was on its way
        _reject(message, "session_ended", NOTICE_ENDED)
        return
    if session.mode == SessionMode.MEDIATED:
        _set_status(message, MessageStatus.AWAITING_AGENT)
        audit_record("inbound.awaiting_agent", message=message, type=message.type)
        return
    counterpart = (
        session.participants.exclude(pk=participant.pk)
        .select_related("contact", "proxy_number")
        .get()
    )
    type_, body, payload = _relay_content(message, region=phones.region_of(message.contact.phone))
    body = _strip_tags(body, participant)
    if type_ == "text" and not body.strip():  # e.g. a flow reply: nothing we can pass on
        _reject(message, "unsupported", NOTICE_UNSUPPORTED)
        return
    outbound.message_queue(
        participant=counterpart,
        origin=Origin.RELAYED,
        type=type_,
        body=body,
        payload=payload,
        source=message,
        reply_to=_counterpart_of_quoted(message, counterpart),
    )
    _set_status(message, MessageStatus.RELAYED)
    audit_record("inbound.relayed", message=message, type=message.type)


def _relay_content(message: Message, *, region: str | None) -> tuple[str, str, dict]:
    """What the other side receives: the same content, with contact details hidden unless
    the session was handed over."""
    raw = message.payload
    kind = raw["type"]
    guard = _Guard(message, region)
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
        return kind, guard(media.get("caption", "")), payload
    if kind == "location":
        location = raw["location"]
        payload = {k: location.get(k) for k in ("latitude", "longitude")}
        payload |= {k: guard(location[k]) for k in ("name", "address") if location.get(k)}
        return "location", "", payload
    if kind == "contacts":
        if message.session.handed_over:
            return "contacts", "", {"contacts": raw["contacts"]}
        names = ", ".join(
            (card.get("name") or {}).get("formatted_name", "a contact") for card in raw["contacts"]
        )
        guard.record("phone", sum(len(card.get("phones") or []) for card in raw["contacts"]))
        return (
            "text",
            guard(
                f"Shared a contact card: {names}. Contact details are hidden in this conversation."
            ),
            {},
        )
    return "text", guard(message.body), {}


class _Guard:
    """Redacts each piece of text it is given and records what it removed as leakage."""

    def __init__(self, message: Message, region: str | None) -> None:
        self.message, self.region = message, region
        self.active = not message.session.handed_over

    def __call__(self, text: str) -> str:
        if not self.active or not text:
            return text
        result = redact(text, region=self.region)
        for kind, count in result.found.items():
            self.record(kind, count)
        return result.text

    def record(self, kind: str, count: int) -> None:
        if not self.active or not count:
            return
        LeakageAttempt.objects.create(
            session=self.message.session, message=self.message, kind=kind, count=count
        )
        audit_record("privacy.redacted", message=self.message, leak=kind, count=count)


def _strip_tags(body: str, participant: Participant) -> str:
    return (
        TAG.sub(
            lambda m: "" if m.group(1).upper() == participant.thread_tag else m.group(), body
        ).strip()
        if body
        else body
    )


def _quoted(message: Message, wamid: str | None = None) -> Message | None:
    """The message on this leg that `message` quotes (or `wamid` names), if we know it."""
    wamid = wamid or (message.payload.get("context") or {}).get("id")
    if not wamid:
        return None
    return Message.objects.filter(
        provider_message_id=wamid, contact=message.contact, proxy_number=message.proxy_number
    ).first()


def _counterpart_of_quoted(message: Message, counterpart: Participant) -> Message | None:
    """The message on the other leg that matches the one being quoted here, if any."""
    quoted = _quoted(message)
    return _twin_on_other_leg(quoted, counterpart) if quoted else None


def _twin_on_other_leg(message: Message, counterpart: Participant) -> Message | None:
    """A relayed message's original, or an original's relayed copy, on `counterpart`'s leg."""
    if message.direction == Direction.OUTBOUND:
        source = message.source
        return source if source and source.contact_id == counterpart.contact_id else None
    return message.relays.filter(participant=counterpart).first()


def _mirror_reaction(message: Message) -> None:
    reaction = message.payload.get("reaction") or {}
    target = _quoted(message, reaction.get("message_id"))
    participant = _participant_for(target, message)
    if target is None or participant is None:
        _reject(message, "reaction_target_unknown", None)
        return
    if participant.session.mode == SessionMode.MEDIATED:
        _bind(message, participant)
        _set_status(message, MessageStatus.AWAITING_AGENT)
        return
    counterpart = participant.session.participants.exclude(pk=participant.pk).get()
    mirrored = _twin_on_other_leg(target, counterpart)
    if mirrored is None or not mirrored.provider_message_id:
        _reject(message, "reaction_target_unknown", None)
        return
    _bind(message, participant)
    outbound.message_queue(
        participant=counterpart,
        origin=Origin.RELAYED,
        type="reaction",
        payload={"message_id": mirrored.provider_message_id, "emoji": reaction.get("emoji", "")},
        source=message,
    )
    _set_status(message, MessageStatus.RELAYED)


def _participant_for(target: Message | None, message: Message) -> Participant | None:
    if target is None or target.session_id is None:
        return None
    return (
        Participant.objects.filter(session=target.session_id, contact=message.contact, active=True)
        .select_related("session")
        .first()
    )


def _out_of_session(message: Message, leg: Leg) -> None:
    _set_status(message, MessageStatus.OUT_OF_SESSION)
    audit_record("inbound.out_of_session", message=message, number=message.proxy_number.e164)
    now = timezone.now()
    if leg.last_stranger_notice_at and now - leg.last_stranger_notice_at < STRANGER_NOTICE_EVERY:
        return
    Leg.objects.filter(pk=leg.pk).update(last_stranger_notice_at=now)
    outbound.notice_queue(
        contact=message.contact, proxy_number=message.proxy_number, text=NOTICE_STRANGER
    )


def _ask_which_thread(message: Message, candidates: list[Participant]) -> None:
    already_asked = Message.objects.filter(
        contact=message.contact,
        proxy_number=message.proxy_number,
        origin=Origin.NOTICE,
        type="interactive",
        created_at__gte=timezone.now() - CHOICE_ASKED_WITHIN,
    ).exists()
    _set_status(message, MessageStatus.AWAITING_CHOICE)
    audit_record("inbound.awaiting_choice", message=message)
    if already_asked:
        return
    rows = []
    for candidate in candidates[:10]:  # a list message holds ten rows
        other = candidate.session.participants.exclude(pk=candidate.pk).first()
        rows.append(
            {
                "id": f"{THREAD_CHOICE}{candidate.pk}",
                "title": f"#{candidate.thread_tag} {candidate.session.external_ref}"[:24],
                "description": f"With {other.alias}"[:72] if other else "",
            }
        )
    interactive = {
        "type": "list",
        "body": {"text": NOTICE_WHICH},
        "footer": {"text": "Or start your message with its #tag"},
        "action": {"button": "Choose", "sections": [{"title": "Conversations", "rows": rows}]},
    }
    outbound.notice_queue(
        contact=message.contact, proxy_number=message.proxy_number, interactive=interactive
    )


def _thread_chosen(message: Message, participant_id: str) -> None:
    participant = (
        Participant.objects.filter(
            pk=int(participant_id) if participant_id.isdigit() else 0,
            contact=message.contact,
            proxy_number=message.proxy_number,
            active=True,
        )
        .select_related("session")
        .first()
    )
    waiting = Message.objects.filter(
        contact=message.contact,
        proxy_number=message.proxy_number,
        direction=Direction.INBOUND,
        status=MessageStatus.AWAITING_CHOICE,
    ).order_by("id")
    if participant is None or not participant.session.is_live():
        _reject(message, "thread_ended", NOTICE_ENDED)
        return
    _bind(message, participant)
    audit_record("inbound.thread_chosen", message=message, session_id=participant.session_id)
    for held in waiting:
        inbound_relay(message=held, participant=participant)


def _reject(message: Message, reason: str, notice: str | None) -> None:
    _set_status(message, MessageStatus.REJECTED)
    audit_record(f"inbound.{reason}", message=message, type=(message.payload or {}).get("type"))
    if notice:
        outbound.notice_queue(
            contact=message.contact,
            proxy_number=message.proxy_number,
            text=notice,
            session=message.session,
        )


def _bind(message: Message, participant: Participant) -> None:
    """The message turned out to belong to `participant`'s session."""
    Message.objects.filter(pk=message.pk).update(
        session=participant.session, participant=participant
    )
    message.session, message.participant = participant.session, participant


def _set_status(message: Message, status: str) -> None:
    Message.objects.filter(pk=message.pk).update(status=status)
    message.status = status


def _text_of(raw: dict) -> str:
    kind = raw.get("type")
    if kind == "text":
        return (raw.get("text") or {}).get("body", "")
    if kind in ("image", "video", "document"):
        return (raw.get(kind) or {}).get("caption", "")
    if kind == "button":
        return (raw.get("button") or {}).get("text", "")
    if kind == "interactive":
        reply = raw["interactive"].get("button_reply") or raw["interactive"].get("list_reply") or {}
        return reply.get("title", "")
    return ""


def inbound_expire_unchosen(*, now) -> int:
    """Messages whose sender never said which conversation they meant are not relayed days
    later: after a day they are dropped from the queue (and kept in the transcript)."""
    return Message.objects.filter(
        direction=Direction.INBOUND,
        status=MessageStatus.AWAITING_CHOICE,
        created_at__lte=now - timedelta(hours=24),
    ).update(status=MessageStatus.REJECTED)
