"""A simulated WhatsApp phone for local work with the console provider: what it has
received (the console provider's outbox) and what it sent (webhooks, as Meta would post)."""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Prefetch
from django.utils import timezone

from relay import crypto
from relay.choices import LIVE_SESSION_STATUSES, MEDIA_TYPES, Direction, Role
from relay.models import (
    ConsoleMessage,
    Contact,
    Message,
    MessageTemplate,
    Participant,
    ProxyNumber,
    RelaySession,
    WebhookPayload,
)
from relay.selectors import message_reason, messages_explained
from relay.services.webhooks import webhook_store
from relay.webhooks.envelope import conversation_of

HISTORY = 200  # messages per direction; older ones are left out
EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass
class Bubble:
    at: datetime
    mine: bool  # sent by this phone
    kind: str
    text: str = ""
    note: str = ""
    choices: list[dict] = field(default_factory=list)  # rows and buttons the phone can tap
    reply_kind: str = ""  # "list_reply" or "button_reply"

    @property
    def badge(self) -> str:
        """What kind of message this is, when it is not plain text."""
        return "" if self.kind in ("text", "") else self.kind


@dataclass
class Thread:
    number: ProxyNumber
    sessions: list[str] = field(default_factory=list)
    bubbles: list[Bubble] = field(default_factory=list)

    @property
    def last_at(self) -> datetime:
        return self.bubbles[-1].at if self.bubbles else EPOCH


def phone_threads(*, phone: str) -> list[Thread]:
    """One thread per proxy number the phone talks to (or is bound to), newest first."""
    numbers = {n.pk: n for n in ProxyNumber.objects.select_related("pool")}
    by_phone_number_id = {n.phone_number_id: n.pk for n in numbers.values()}
    threads: dict[int, Thread] = {}

    def thread(number_pk: int) -> Thread:
        return threads.setdefault(number_pk, Thread(numbers[number_pk]))

    contact = Contact.objects.filter(phone_hash=crypto.lookup_hash(phone)).first()
    seen: set[str] = set()
    if contact:
        bindings = Participant.objects.filter(contact=contact, active=True)
        for participant in bindings.select_related("session"):
            label = f"#{participant.thread_tag} {participant.session.external_ref}"
            thread(participant.proxy_number_id).sessions.append(label)
        sent = messages_explained(contact.messages.filter(direction=Direction.INBOUND))
        sent = sent.order_by("-id")[:HISTORY]
        for message in sent:
            seen.add(message.provider_message_id)
            thread(message.proxy_number_id).bubbles.append(_sent(message))
    for outgoing in ConsoleMessage.objects.filter(payload__to=phone).order_by("-id")[:HISTORY]:
        if outgoing.phone_number_id in by_phone_number_id:
            thread(by_phone_number_id[outgoing.phone_number_id]).bubbles.append(_received(outgoing))
    for phone_number_id, bubble in _pending(phone, seen):
        if phone_number_id in by_phone_number_id:
            thread(by_phone_number_id[phone_number_id]).bubbles.append(bubble)
    for item in threads.values():
        item.bubbles.sort(key=lambda bubble: bubble.at)
    return sorted(threads.values(), key=lambda t: t.last_at, reverse=True)


def phone_sessions_by_number(*, phone: str) -> dict[int, list[str]]:
    """The phone's live sessions on each of our numbers: {number id: ["BK-1001 with Downtown
    Hub", ...]}."""
    contact = Contact.objects.filter(phone_hash=crypto.lookup_hash(phone)).first()
    if contact is None:
        return {}
    bindings = Participant.objects.filter(contact=contact, active=True).select_related(
        "session__partner"
    )
    found: dict[int, list[str]] = {}
    for participant in bindings.prefetch_related("session__participants"):
        others = [p for p in participant.session.participants.all() if p.pk != participant.pk]
        label = participant.session.external_ref
        if others and others[0].alias:
            label += f" with {others[0].alias}"
        found.setdefault(participant.proxy_number_id, []).append(label)
    return found


@dataclass(frozen=True)
class Phone:
    name: str
    phone: str
    who: str  # "Customer · BK-1001", "Partner · Downtown Hub"
    side: str  # customer or partner


def phones_known(*, limit: int = 24) -> list[Phone]:
    """The phones worth being: the customers of the newest live sessions, then every partner
    contact, each once."""
    from routing.models import PartnerContact  # routing builds on relay

    found: dict[str, Phone] = {}
    for session in live_sessions(limit=limit):
        for participant in session.participants.all():
            if participant.role == Role.CUSTOMER and participant.contact.phone:
                name = participant.name or participant.contact.display_name or "Customer"
                found.setdefault(
                    participant.contact.phone,
                    Phone(name, participant.contact.phone, f"Customer · {session.external_ref}",
                          "customer"),
                )  # fmt: skip
    contacts = PartnerContact.objects.select_related("partner", "contact").order_by("partner__name")
    for contact in contacts[:limit]:
        if contact.contact.phone:
            found.setdefault(
                contact.contact.phone,
                Phone(contact.name, contact.contact.phone, f"Partner · {contact.partner.name}",
                      "partner"),
            )  # fmt: skip
    return list(found.values())


def live_sessions(*, limit: int = 10) -> list[RelaySession]:
    """The newest live sessions with their participants: the phones worth being."""
    participants = Participant.objects.select_related("contact", "proxy_number").order_by("role")
    sessions = RelaySession.objects.filter(status__in=LIVE_SESSION_STATUSES).order_by("-id")
    return list(sessions.prefetch_related(Prefetch("participants", queryset=participants))[:limit])


def phone_send(
    *,
    phone: str,
    number: ProxyNumber,
    text: str = "",
    reply: dict | None = None,
    name: str = "Simulator",
) -> int:
    """Store a webhook as Meta would post it for `phone` writing to `number`: a text, or a
    tap on a list row or reply button (`reply` holds its kind, id and title)."""
    item = {
        "from": phone.lstrip("+"),
        "id": f"wamid.sim.{uuid.uuid4().hex}",
        "timestamp": str(int(timezone.now().timestamp())),
    }
    if reply:
        reply_kind = reply["kind"]
        item["type"] = "interactive"
        item["interactive"] = {
            "type": reply_kind,
            reply_kind: {"id": reply["id"], "title": reply["title"]},
        }
    else:
        item |= {"type": "text", "text": {"body": text}}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": number.e164.lstrip("+"),
            "phone_number_id": number.phone_number_id,
        },
        "contacts": [{"profile": {"name": name}, "wa_id": item["from"]}],
        "messages": [item],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "SIMULATOR", "changes": [{"field": "messages", "value": value}]}],
    }
    return webhook_store(body=json.dumps(body).encode(), conversation=conversation_of(body))


def _sent(message: Message) -> Bubble:
    raw = message.payload
    kind = raw.get("type", message.type)
    text = message.body
    if kind == "location":
        text = _location(raw.get("location") or {})
    note = " · ".join(filter(None, [message.get_status_display(), message_reason(message)]))
    return Bubble(at=message.created_at, mine=True, kind=kind, text=text, note=note)


def _received(outgoing: ConsoleMessage) -> Bubble:
    """A Cloud API message body, as the phone would show it."""
    payload = outgoing.payload
    kind = payload.get("type", "")
    content = payload.get(kind) or {}
    bubble = Bubble(at=outgoing.created_at, mine=False, kind=kind)
    if kind == "text":
        bubble.text = content.get("body", "")
    elif kind == "template":
        bubble.text = _template_text(content)
    elif kind == "interactive":
        _interactive(bubble, content)
    elif kind in MEDIA_TYPES:
        bubble.text = content.get("caption", "")
        bubble.note = content.get("filename", "")
    elif kind == "location":
        bubble.text = _location(content)
    elif kind == "reaction":
        bubble.text = content.get("emoji", "")
    return bubble


def _template_text(content: dict) -> str:
    """What the phone shows for a template: its text with the values filled in."""
    values = [
        p.get("text", "")
        for component in content.get("components") or []
        for p in component.get("parameters") or []
    ]
    language = (content.get("language") or {}).get("code", "")
    template = MessageTemplate.objects.filter(name=content.get("name"), language=language).first()
    if template is None or not template.body:
        return f"Template {content.get('name')}: {', '.join(values)}"
    return template.render(values)


def _interactive(bubble: Bubble, content: dict) -> None:
    bubble.text = (content.get("body") or {}).get("text", "")
    bubble.note = (content.get("footer") or {}).get("text", "")
    action = content.get("action") or {}
    if content.get("type") == "list":
        bubble.reply_kind = "list_reply"
        bubble.choices = [
            row for section in action.get("sections") or [] for row in section.get("rows") or []
        ]
    elif content.get("type") == "button":
        bubble.reply_kind = "button_reply"
        bubble.choices = [button.get("reply") or {} for button in action.get("buttons") or []]


def _location(location: dict) -> str:
    place = " ".join(filter(None, [location.get("name"), location.get("address")]))
    return place or f"{location.get('latitude')}, {location.get('longitude')}"


def _pending(phone: str, seen: set[str]) -> Iterator[tuple[str, Bubble]]:
    """What the phone sent that the worker has not handled yet, so that it shows at once."""
    digits = phone.lstrip("+")
    for payload in WebhookPayload.objects.filter(processed_at__isnull=True).order_by("-id")[:50]:
        note = "not handled: see its webhook payload" if payload.error else "waiting for the worker"
        for phone_number_id, item in _webhook_messages(json.loads(payload.body)):
            if item.get("from") != digits or item.get("id") in seen:
                continue
            text = (item.get("text") or {}).get("body", "") or _reply_title(item)
            yield (
                phone_number_id,
                Bubble(payload.received_at, True, item.get("type", ""), text, note),
            )


def _webhook_messages(body: dict) -> Iterator[tuple[str, dict]]:
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            phone_number_id = (value.get("metadata") or {}).get("phone_number_id", "")
            for item in value.get("messages") or []:
                yield phone_number_id, item


def _reply_title(item: dict) -> str:
    interactive = item.get("interactive") or {}
    return (interactive.get("list_reply") or interactive.get("button_reply") or {}).get("title", "")
