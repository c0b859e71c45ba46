"""Reads of the relay's data that are more than a single get."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, QuerySet, Subquery
from django.utils import timezone

from relay import crypto, languages
from relay.choices import LIVE_SESSION_STATUSES, MessageStatus, Role, TemplateStatus
from relay.models import (
    WINDOW,
    Contact,
    Leg,
    MaskingPool,
    Message,
    MessageTemplate,
    OperatorAlert,
    OutboundHold,
    Participant,
    ProxyNumber,
    RelaySession,
)
from relay.prefetch import prefetch_take
from routing.models import Partner


def session_find_live(
    *, external_ref: str, partner: Partner | None, customer: Contact
) -> RelaySession | None:
    """The live session already open for this booking, partner and customer, if any: asking
    again (a client retrying after a timeout) must not open a second one."""
    return (
        RelaySession.objects.filter(
            external_ref=external_ref,
            partner=partner,
            status__in=LIVE_SESSION_STATUSES,
            expires_at__gt=timezone.now(),
            participants__role=Role.CUSTOMER,
            participants__contact=customer,
        )
        .order_by("-pk")
        .first()
    )


OUR_NUMBER = "is one of our own WhatsApp numbers"


def phone_is_ours(phone: str) -> bool:
    return ProxyNumber.objects.filter(e164=phone).exists()


def contact_find(*, phone: str) -> Contact | None:
    """The contact with real number `phone` (E.164), found by its lookup hash."""
    phone_hash = crypto.lookup_hash(phone)
    found = prefetch_take("contact", phone_hash)
    return found or Contact.objects.filter(phone_hash=phone_hash).first()


def contact_language(contact: Contact, pool: MaskingPool | None) -> str:
    """What Switchboard writes to `contact` in: their own language, else the pool's."""
    return contact.language or (pool.language if pool else "") or settings.LANGUAGE_CODE


def reader_language(contact: Contact, proxy_number: ProxyNumber) -> str:
    """The language of someone reached through `proxy_number`."""
    return contact_language(contact, proxy_number.pool)


def invitation_template(pool: MaskingPool, language: str) -> MessageTemplate | None:
    """The approved version of the pool's invitation in `language` (or the same language of
    another region); else the pool's own; None when no approved one can go."""
    default = pool.notice_template
    if default is None:
        return None
    sendable = [
        template
        for template in MessageTemplate.objects.filter(
            account=default.account, name=default.name, status=TemplateStatus.APPROVED
        )
        if template.invitation_problem() is None
    ]
    in_language = [t for t in sendable if languages.matches(t.language, language)]
    if in_language:
        return max(
            in_language, key=lambda t: (languages.matches(t.language, language), t == default)
        )
    return default if default in sendable else None


def sessions_listed(*, external_ref: str = "", status: str = "") -> QuerySet[RelaySession]:
    """Sessions newest first, with what their answers show (participants, numbers, pool)."""
    participants = Participant.objects.select_related("proxy_number", "contact").order_by("role")
    sessions = RelaySession.objects.select_related(
        "partner", "pool__notice_template", "team", "assignee"
    )
    sessions = sessions.prefetch_related(
        Prefetch("participants", queryset=participants), "sla_clocks"
    )
    if external_ref:
        sessions = sessions.filter(external_ref=external_ref)
    if status:
        sessions = sessions.filter(status=status)
    return sessions.order_by("-created_at", "-id")


def session_transcript(*, session: RelaySession) -> QuerySet[Message]:
    """A session's messages, oldest first, each able to say why it waits (message_reason)."""
    messages = Message.objects.filter(session=session).select_related(
        "session", "contact", "participant", "source__participant"
    )
    return messages_explained(messages).order_by("created_at", "id")


def messages_explained(messages: QuerySet[Message]) -> QuerySet[Message]:
    """`messages` with what message_reason needs, in a constant number of queries: their
    relayed copies, and the reason all sending is paused, if it is."""
    paused = OutboundHold.objects.filter(cleared_at__isnull=True).order_by("id").values("reason")
    with_pause = {"paused_reason": Subquery(paused[:1])}
    copies = Message.objects.annotate(**with_pause).order_by("id")
    return messages.annotate(**with_pause).prefetch_related(Prefetch("relays", queryset=copies))


def message_reason(message: Message) -> str:
    """Why a message waits or was not passed on, in words; "" when there is nothing to say.
    An inbound message says why its copy waits. Best on messages_explained() rows."""
    status = message.status
    if status == MessageStatus.PENDING:
        copies = [c for c in message.relays.all() if c.status != MessageStatus.FAILED]
        return message_reason(copies[0]) if copies else ""
    paused = getattr(message, "paused_reason", None)
    if status == MessageStatus.QUEUED and paused:
        return f"waiting: all sending is paused ({paused})"
    if status == MessageStatus.QUEUED and message.attempts and message.next_attempt_at:
        again = f"{message.next_attempt_at:%H:%M} UTC"
        return f"waiting: trying again at {again} after: {message.error_message}"
    if status == MessageStatus.FAILED:
        return message.status_reason or message.error_message
    return message.status_reason or WAITING.get(status, "")


WAITING = {
    MessageStatus.UNCERTAIN: "sent; waiting for WhatsApp to confirm it",
    MessageStatus.AWAITING_AGENT: "waiting for an agent to pass it on",
    MessageStatus.AWAITING_CHOICE: "waiting: the sender was asked which booking it is about",
    MessageStatus.OUT_OF_SESSION: "not passed on: no live booking for this sender here",
}


@dataclass(frozen=True)
class Reach:
    """Whether a participant can be written to now, and what happens if they cannot."""

    window_open: bool
    reachable: bool  # something can reach them now: free text, or an invitation template
    words: str


def participants_reach(participants: Iterable[Participant]) -> dict[int, Reach]:
    """Reach of each participant (whose session and pool are loaded), by participant id."""
    participants = list(participants)
    legs = {
        (leg.contact_id, leg.proxy_number_id): leg
        for leg in Leg.objects.filter(
            contact__in={p.contact_id for p in participants},
            proxy_number__in={p.proxy_number_id for p in participants},
        )
    }
    templates: dict[tuple[int, str], MessageTemplate | None] = {}
    reach = {}
    for participant in participants:
        leg = legs.get((participant.contact_id, participant.proxy_number_id))
        pool = participant.session.pool
        key = (pool.pk, contact_language(participant.contact, pool))
        if key not in templates and not (leg and leg.window_open()):
            templates[key] = invitation_template(pool, key[1])
        reach[participant.pk] = _reach(leg, pool, templates.get(key))
    return reach


def _reach(leg: Leg | None, pool: MaskingPool, template: MessageTemplate | None) -> Reach:
    if leg is not None and leg.window_open():
        until = f"{leg.last_inbound_at + WINDOW:%Y-%m-%d %H:%M} UTC"
        return Reach(
            True, True, f"can be written to now: their 24-hour window is open until {until}"
        )
    if template is not None:
        return Reach(
            False,
            True,
            f"their 24-hour window is closed: template {template} asks them to reply, and "
            "messages follow once they do",
        )
    return Reach(
        False,
        False,
        f"nothing can reach them until they write: their 24-hour window is closed and pool "
        f"{pool.name} has no approved template",
    )


@dataclass(frozen=True)
class Attention:
    open_alerts: int
    held_messages: int
    sending_paused: str  # the hold's reason, "" while sending runs


def attention() -> Attention:
    """What an operator should look at now."""
    hold = OutboundHold.objects.filter(cleared_at__isnull=True).order_by("id").first()
    return Attention(
        open_alerts=OperatorAlert.objects.filter(resolved_at__isnull=True).count(),
        held_messages=Message.objects.filter(status=MessageStatus.HELD).count(),
        sending_paused=hold.reason if hold else "",
    )


def session_sides(session: RelaySession) -> dict[str, Participant]:
    """The session's live participants by role, with what writing to them needs."""
    live = session.participants.filter(active=True).select_related(
        "contact", "proxy_number", "session__partner", "session__pool"
    )
    return {participant.role: participant for participant in live}
