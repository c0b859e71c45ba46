"""Inbound messages: stored once, then taken through the steps below, in order, until one
of them has dealt with the message."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from relay.choices import (
    MEDIA_TYPES,
    Direction,
    EventKind,
    MessageStatus,
    MessageType,
    NumberKind,
    Origin,
    RejectReason,
    Role,
    SessionMode,
    TextKey,
)
from relay.commands.service import command_named, command_reply, command_run
from relay.exceptions import RelayError
from relay.inserts import insert_many_unless_present, insert_unless_present
from relay.models import Contact, Leg, Message, Participant, ProxyNumber
from relay.prefetch import in_a_round, prefetch_put, prefetch_take
from relay.services import relaying, threads
from relay.services.contacts import (
    contact_change_number,
    contact_for_sender,
    contacts_prefetch,
)
from relay.services.handovers import handover_answer, handover_button
from relay.services.messages import (
    inbound_reject,
    message_bind,
    message_set_status,
    message_state_save,
)
from relay.services.queueing import notice_send
from relay.services.sessions import session_touch
from relay.services.slots import slot_pick, slot_pick_id
from relay.services.statuses import unix_time
from relay.services.windows import leg_lock, leg_window_opened, legs_prefetch
from relay.timeline import Actor, timeline_batch, timeline_record
from routing.services.intake import intake_open

RELAYABLE = MEDIA_TYPES | {"text", "location", "contacts", "interactive", "button", "reaction"}
# What an inbound row keeps of Meta's message: its content, not who sent it (the contact,
# encrypted, says that) and not `system` notices, which carry old and new numbers.
KEPT_FIELDS = ("id", "timestamp", "type", "context", "errors")
STRANGER_NOTICE_EVERY = timedelta(hours=1)
DELIVERED_BEFORE = object()  # a message its round found stored already
WINDOW_KEPT_WITHIN = timedelta(minutes=1)


@dataclass
class Inbound:
    """One inbound message on its way through the steps."""

    message: Message
    raw: dict  # Meta's item as received; empty for a message taken up again later
    cleaned: bool = False  # characters no column stores were taken out of it
    leg: Leg | None = None
    participant: Participant | None = None  # once its session is known


Step = Callable[[Inbound], bool]  # True: the message has been dealt with


def inbound_receive(
    *, number: ProxyNumber, raw: dict, profile: dict, cleaned: bool = False
) -> Message | None:
    """Store and handle one `messages[]` item. A WhatsApp message id seen before is ignored,
    so each message is relayed exactly once however often it is delivered. `cleaned`: some
    characters could not be kept (the sender is told)."""
    wa_id = raw.get("from") or profile.get("wa_id")
    bsuid = raw.get("from_user_id") or profile.get("user_id")
    if not raw.get("id") or not (wa_id or bsuid):
        with transaction.atomic():
            timeline_record(EventKind.WEBHOOK_MALFORMED_ITEM, proxy_number_id=number.pk)
        return None
    # In a round, a failure undoes the whole round (which is then handled a payload at a
    # time): no savepoint is needed.
    with transaction.atomic(savepoint=not in_a_round()), timeline_batch():
        contact = contact_for_sender(
            wa_id=wa_id, bsuid=bsuid, profile_name=(profile.get("profile") or {}).get("name", "")
        )
        message = prefetch_take("stored", str(raw["id"]))
        if message is None:
            message = _message_from(raw, contact=contact, number=number)
            if not insert_unless_present(message):
                return None  # delivered before: already handled
        elif message is DELIVERED_BEFORE:
            return None
        else:  # stored ahead with the rest of its round
            prefetch_put("stored", message.provider_message_id, DELIVERED_BEFORE)
        _run(STEPS, Inbound(message, raw, cleaned))
    return message


def inbound_prefetch(items: list[tuple[ProxyNumber, dict, dict]]) -> None:
    """For a round of messages (number, Meta's item, the sender's profile): read ahead the
    rows their steps look up (contacts, legs, locked, and sessions), and store the messages
    of senders already known in one statement (relay/prefetch.py)."""
    senders = [raw.get("from") or profile.get("wa_id") for _, raw, profile in items]
    contacts = contacts_prefetch({wa_id for wa_id in senders if wa_id})
    ahead = [
        _message_from(raw, contact=contacts[wa_id], number=number)
        for (number, raw, _), wa_id in zip(items, senders, strict=True)
        if wa_id in contacts and raw.get("id")
    ]
    if not ahead:
        return
    legs_prefetch({(message.contact_id, message.proxy_number_id) for message in ahead})
    threads.bindings_prefetch({(message.contact_id, message.proxy_number_id) for message in ahead})
    stored = set(insert_many_unless_present(ahead, unique="provider_message_id"))
    for message in ahead:
        value = message if message in stored else DELIVERED_BEFORE
        prefetch_put("stored", message.provider_message_id, value)


def _message_from(raw: dict, *, contact: Contact, number: ProxyNumber) -> Message:
    return Message(
        direction=Direction.INBOUND,
        origin=Origin.PARTICIPANT,
        contact=contact,
        proxy_number=number,
        type=_type_of(raw),
        body=_text_of(raw),
        payload=_kept(raw),
        provider_message_id=str(raw["id"]),
        status=MessageStatus.RECEIVED,
        wa_timestamp=unix_time(raw.get("timestamp")),
    )


@transaction.atomic
def inbound_continue(*, message: Message, participant: Participant) -> None:
    """Take up a message that waited, now that its session is known."""
    _run(IN_SESSION_STEPS, Inbound(message, {}, participant=participant))


def _run(steps: tuple[Step, ...], inbound: Inbound) -> None:
    for step in steps:
        if step(inbound):
            break
    message_state_save(inbound.message)


def system_event(inbound: Inbound) -> bool:
    """From WhatsApp, not the user (no window opens): a user who changed number keeps their
    contact, and with it their live sessions."""
    message = inbound.message
    if message.type != MessageType.SYSTEM:
        return False
    event = inbound.raw.get("system") or {}
    message_set_status(message, MessageStatus.REJECTED)
    changed = event.get("type") == "user_changed_number" and event.get("wa_id")
    moved = changed and contact_change_number(contact=message.contact, wa_id=event["wa_id"])
    timeline_record(
        EventKind.SYSTEM_NOTICE,
        message=message,
        event=str(event.get("type", "")),
        moved=bool(moved),
    )
    return True


def open_window(inbound: Inbound) -> bool:
    """The sender just wrote: their window on this number is open, and what waited for
    them can go. The leg stays locked until the message is handled."""
    message = inbound.message
    leg = leg_lock(contact=message.contact, proxy_number=message.proxy_number)
    was_open = leg.window_open()
    at = message.wa_timestamp
    # Kept to within a minute: in a busy conversation the leg is not written every message.
    if leg.last_inbound_at is None or at > leg.last_inbound_at + WINDOW_KEPT_WITHIN:
        Leg.objects.filter(pk=leg.pk).update(last_inbound_at=at)
        leg.last_inbound_at = at
    # Messages are held only while a window is closed, and released when it opens: an
    # open window has nothing held to release.
    if leg.window_open() and not was_open:
        leg_window_opened(leg=leg)
    inbound.leg = leg
    return False


def stale(inbound: Inbound) -> bool:
    oldest = timezone.now() - timedelta(hours=settings.RELAY_STALE_INBOUND_HOURS)
    if inbound.message.wa_timestamp >= oldest:
        return False
    inbound_reject(
        inbound.message, RejectReason.STALE, TextKey.STALE if inbound.leg.window_open() else None
    )
    return True


def thread_choice(inbound: Inbound) -> bool:
    """A tap on the "which booking?" list: what waited for the choice goes on its way."""
    chosen_id = threads.thread_chosen_id(inbound.message)
    if chosen_id is None:
        return False
    participant, waiting = threads.thread_choose(inbound.message, chosen_id)
    for held in waiting:
        inbound_continue(message=held, participant=participant)
    return True


def reaction(inbound: Inbound) -> bool:
    if inbound.message.type != MessageType.REACTION:
        return False
    relaying.reaction_mirror(inbound.message)
    return True


def unsupported(inbound: Inbound) -> bool:
    if inbound.message.type != MessageType.UNSUPPORTED:
        return False
    inbound_reject(inbound.message, RejectReason.UNSUPPORTED, TextKey.UNSUPPORTED)
    return True


def find_session(inbound: Inbound) -> bool:
    """By the pair (sender, number); on a shared number by reply context or #tag, else the
    sender is asked which booking they mean."""
    found = threads.thread_find(inbound.message)
    if found is threads.AMBIGUOUS:
        return True
    inbound.participant = found
    return False


def intake(inbound: Inbound) -> bool:
    """No session, on an intake number: routing opens one, as its rules place it."""
    if inbound.participant is None and inbound.message.proxy_number.kind == NumberKind.INTAKE:
        inbound.participant = intake_open(inbound.message)
    return False


def out_of_session(inbound: Inbound) -> bool:
    """Still no session: the stranger is told so, at most once an hour."""
    if inbound.participant is not None:
        return False
    message, leg = inbound.message, inbound.leg
    message_set_status(message, MessageStatus.OUT_OF_SESSION)
    timeline_record(EventKind.MESSAGE_OUT_OF_SESSION, message=message)
    now = timezone.now()
    if leg.last_stranger_notice_at and now - leg.last_stranger_notice_at < STRANGER_NOTICE_EVERY:
        return True
    Leg.objects.filter(pk=leg.pk).update(last_stranger_notice_at=now)
    leg.last_stranger_notice_at = now
    notice_send(contact=message.contact, proxy_number=message.proxy_number, key=TextKey.STRANGER)
    return True


def enter_session(inbound: Inbound) -> bool:
    """The message belongs to its session now; the session's idle timer starts again."""
    message = inbound.message
    message_bind(message, inbound.participant)
    if session_touch(session=inbound.participant.session):
        timeline_record(EventKind.MESSAGE_RECEIVED, message=message, type=message.type)
        return False
    # It ended while this message was on its way.
    inbound_reject(inbound.message, RejectReason.SESSION_ENDED, TextKey.ENDED)
    return True


def command(inbound: Inbound) -> bool:
    """A text that starts with "/" and a name is a command: it runs (or is refused, the
    sender told why in private) and is never relayed."""
    message, participant = inbound.message, inbound.participant
    if message.type != MessageType.TEXT or command_named(message.body) is None:
        return False
    session = participant.session
    outcome = command_run(
        session=session,
        text=message.body,
        user=participant.role,
        actor=Actor.of_participant(participant),
    )
    message_set_status(message, MessageStatus.COMMAND, outcome.reply[:300])
    key, values = command_reply(outcome, session, participant.role)
    notice_send(
        contact=message.contact,
        proxy_number=message.proxy_number,
        key=key,
        session=session,
        participant=participant,
        **values,
    )
    return True


def answer_to_relay(inbound: Inbound) -> bool:
    """A tap on a question the relay asked ("do you agree to exchange numbers?", "choose a
    time"): handled here, never relayed."""
    message = inbound.message
    if message.type != MessageType.INTERACTIVE:
        return False
    tapped, slot_id = handover_button(message), slot_pick_id(message)
    participant = inbound.participant
    if tapped is None and slot_id is None:
        return False
    try:
        with transaction.atomic():  # a refusal undoes the answer alone, not the message
            if tapped is not None:
                handover_answer(participant=participant, handover_id=tapped[0], yes=tapped[1])
            elif participant.role == Role.CUSTOMER:
                slot_pick(participant=participant, slot_id=slot_id)
        reason = "an answer to the relay's question"
    except RelayError as exc:
        reason = f"an answer to the relay's question, not taken: {exc}"
    message_set_status(message, MessageStatus.COMMAND, reason[:300])
    return True


def mediated_hold(inbound: Inbound) -> bool:
    """In a mediated session an agent decides what is passed on; in one that waits in
    triage (no partner yet), an agent first decides where it goes."""
    session = inbound.participant.session
    triage = session.partner_id is None
    if session.mode != SessionMode.MEDIATED and not triage:
        return False
    message_set_status(inbound.message, MessageStatus.AWAITING_AGENT)
    timeline_record(
        EventKind.MESSAGE_HELD_FOR_AGENT,
        message=inbound.message,
        reason="triage" if triage else "mediated",
    )
    return True


def relay(inbound: Inbound) -> bool:
    message = inbound.message
    relaying.inbound_relay(message=message, participant=inbound.participant)
    if inbound.cleaned:  # what was relayed lacks what could not be read
        notice_send(
            contact=message.contact,
            proxy_number=message.proxy_number,
            key=TextKey.PARTLY_UNREADABLE,
            session=message.session,
        )
    return True


STEPS: tuple[Step, ...] = (
    system_event,
    open_window,
    stale,
    thread_choice,
    reaction,
    unsupported,
    find_session,
    intake,
    out_of_session,
    enter_session,
    command,
    answer_to_relay,
    mediated_hold,
    relay,
)
# What a message goes through once its session is known (after a thread choice, too).
IN_SESSION_STEPS = STEPS[STEPS.index(enter_session) :]


def _type_of(raw: dict) -> str:
    kind = raw.get("type")
    if kind == "system" or kind in RELAYABLE:
        return kind
    return MessageType.UNSUPPORTED


def _kept(raw: dict) -> dict:
    kind = raw.get("type")
    kept = {k: raw[k] for k in KEPT_FIELDS if k in raw}
    if kind in raw and kind != "system":
        kept[kind] = raw[kind]
    return kept


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
