"""Scheduling: a partner or agent offers times (/slots Tue 10:00, Wed 14:00, read in the
workflow's time zone); the customer picks one from a list; the first valid pick is the
appointment, both sides are told, and reminders go before it. A time taken or past cannot be
picked; offering new times moves the appointment; /noshow records that nobody came."""

import logging
import re
import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import formats, timezone, translation

from relay.choices import EventKind, Origin, Role, SlotStatus, TextKey
from relay.exceptions import RelayError
from relay.models import Contact, Message, Participant, RelaySession, Reminder, Slot
from relay.selectors import contact_language, session_sides
from relay.services.queueing import message_queue, notice_queue, notice_send
from relay.texts import text_render
from relay.timeline import SYSTEM, Actor, timeline_record

logger = logging.getLogger(__name__)
REMINDERS_BEFORE = (timedelta(hours=24), timedelta(hours=1))
MOST_SLOTS = 10  # rows of a WhatsApp list
PICK = "slot:"  # a list row's id: slot:<id>
DAYS = {
    name: number
    for number, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
SLOT = re.compile(
    r"^(?P<day>today|tomorrow|\d{4}-\d{2}-\d{2}|[a-z]+)\s+"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm)?$",
    re.IGNORECASE,
)
HOW = "write days and times in a list, e.g. /slots Tue 10:00, Wed 2pm, 2026-12-08 09:30"


def slot_times_read(text: str, *, zone: str, now: datetime | None = None) -> list[datetime]:
    """The times written in `text`, in `zone`; RelayError, saying how to write them, if one
    cannot be read or has passed."""
    now = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(zone))
    pieces = [piece.strip() for piece in text.split(",") if piece.strip()]
    if not pieces:
        raise RelayError(f"no times were given: {HOW}")
    if len(pieces) > MOST_SLOTS:
        raise RelayError(f"at most {MOST_SLOTS} times can be offered at once")
    times = []
    for piece in pieces:
        at = _time_of(piece, now)
        if at <= now:
            raise RelayError(f"'{piece}' has passed: offer times to come")
        if at not in times:
            times.append(at)
    return sorted(times)


def _time_of(piece: str, now: datetime) -> datetime:
    match = SLOT.match(piece)
    if match is None:
        raise RelayError(f"'{piece}' is not a day and a time: {HOW}")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise RelayError(f"'{piece}' is not a time: {HOW}")
        hour = hour % 12 + (12 if match["half"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise RelayError(f"'{piece}' is not a time: {HOW}")
    day, at = _day_of(match["day"].lower(), piece, now), time(hour, minute)
    result = datetime.combine(day, at, tzinfo=now.tzinfo)
    if match["day"].lower() in DAYS and result <= now:
        result = datetime.combine(day + timedelta(days=7), at, tzinfo=now.tzinfo)  # next week
    return result


def _day_of(word: str, piece: str, now: datetime) -> date:
    if word == "today":
        return now.date()
    if word == "tomorrow":
        return now.date() + timedelta(days=1)
    if word in DAYS:
        return now.date() + timedelta(days=(DAYS[word] - now.weekday()) % 7)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise RelayError(f"'{piece}' does not start with a day: {HOW}") from None


@transaction.atomic
def slots_offer(*, session: RelaySession, times: list[datetime], actor: Actor) -> list[Slot]:
    """Offer `times` to the customer as a list; what was offered before is withdrawn, and an
    appointment already set is to be moved (its reminders will not go)."""
    session = RelaySession.objects.select_for_update().get(pk=session.pk)  # as picks do
    customer = _side(session, Role.CUSTOMER)
    if customer is None or not session.is_live():
        raise RelayError("times can be offered only in a live session with a customer")
    for slot in session.slots.filter(status__in=[SlotStatus.OFFERED, SlotStatus.CONFIRMED]):
        moved = slot.status == SlotStatus.CONFIRMED
        _slot_end(slot, SlotStatus.RESCHEDULED if moved else SlotStatus.WITHDRAWN)
        if moved:
            timeline_record(EventKind.SLOT_RESCHEDULED, session=session, actor=actor, slot=slot.pk)
    slots = [Slot.objects.create(session=session, starts_at=at) for at in times]
    _status_follows(session, "scheduling", actor)
    timeline_record(
        EventKind.SLOTS_OFFERED, session=session, actor=actor, slots=[s.pk for s in slots]
    )
    _send_list(session, customer, slots)
    return slots


def slot_pick_id(message: Message) -> int | None:
    """The slot a tap on the list of times names; None for anything else."""
    row = str(((message.payload.get("interactive") or {}).get("list_reply") or {}).get("id", ""))
    number = row.removeprefix(PICK)
    return int(number) if row.startswith(PICK) and number.isdigit() else None


@transaction.atomic(savepoint=False)
def slot_pick(*, participant: Participant, slot_id: int) -> Slot | None:
    """The customer picked a time: the first valid pick is the appointment. A time that is
    taken or has passed is refused, and they are asked to choose another."""
    session = RelaySession.objects.select_for_update().get(pk=participant.session_id)
    partner = _side(session, Role.PARTNER)
    if partner is not None:  # two families picking the same time of one caregiver: in turn
        Contact.objects.select_for_update().filter(pk=partner.contact_id).first()
    slot = session.slots.filter(pk=slot_id).first()
    now = timezone.now()
    problem = None
    if slot is None or slot.status != SlotStatus.OFFERED or _taken(slot):
        problem = "taken"
    elif slot.starts_at <= now:
        problem = "past"
    actor = Actor.of_participant(participant)
    if problem:
        timeline_record(
            EventKind.SLOT_REFUSED, session=session, actor=actor, slot=slot_id, reason=problem
        )
        key = TextKey.SLOT_TAKEN if problem == "taken" else TextKey.SLOT_PAST
        notice_send(
            contact=participant.contact,
            proxy_number=participant.proxy_number,
            key=key,
            session=session,
            participant=participant,
        )
        return None
    slot.status, slot.confirmed_at = SlotStatus.CONFIRMED, now
    slot.save(update_fields=["status", "confirmed_at"])
    for other in session.slots.filter(status=SlotStatus.OFFERED):
        _slot_end(other, SlotStatus.WITHDRAWN)
    reminders = [
        Reminder.objects.create(slot=slot, due_at=slot.starts_at - before)
        for before in REMINDERS_BEFORE
        if slot.starts_at - before > now
    ]
    _status_follows(session, "scheduled", actor)
    timeline_record(
        EventKind.SLOT_CONFIRMED,
        session=session,
        actor=actor,
        slot=slot.pk,
        starts_at=slot.starts_at.isoformat(),
        reminders=len(reminders),
    )
    zone = _zone(session)
    for side in _sides(session):
        _tell_time(side, TextKey.SLOT_CONFIRMED, slot, zone)
    return slot


def reminders_send(*, now=None) -> int:
    """Send the reminders that are due, each once whoever else is sending; one for an
    appointment that has passed or a session that ended is cancelled. Returns how many went."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            reminder = (
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True, cancelled=False, due_at__lte=now)
                .select_related("slot__session__pool")
                .order_by("due_at")
                .first()
            )
            if reminder is None:
                return sent
            slot = reminder.slot
            if not _reminder_send(reminder, now):
                Reminder.objects.filter(pk=reminder.pk).update(cancelled=True)
                continue
            Reminder.objects.filter(pk=reminder.pk).update(sent_at=now)
            sent += 1
            lead = slot.starts_at - reminder.due_at
            timeline_record(
                EventKind.REMINDER_SENT,
                session=slot.session,
                slot=slot.pk,
                hours_before=round(lead.total_seconds() / 3600, 2),
            )


def _reminder_send(reminder: Reminder, now) -> bool:
    """Tell both sides; False when there is nothing to remind of, or it cannot be said."""
    slot = reminder.slot
    if slot.status != SlotStatus.CONFIRMED or slot.starts_at <= now or not slot.session.is_live():
        return False
    try:
        with transaction.atomic():
            zone = _zone(slot.session)
            for side in _sides(slot.session):
                _tell_time(side, TextKey.SLOT_REMINDER, slot, zone)
    except RelayError:  # its workflow was removed, say: the others still go
        logger.warning("reminder %s of session %s not sent", reminder.pk, slot.session_id)
        return False
    return True


def appointment_set(*, session: RelaySession, starts_at: datetime, actor: Actor) -> Slot:
    """The booking system moved the appointment (or set the first one): the new time is the
    appointment, the old one's reminders are cancelled, both sides are told."""
    for old in session.slots.filter(status=SlotStatus.CONFIRMED):
        _slot_end(old, SlotStatus.RESCHEDULED)
    for offered in session.slots.filter(status=SlotStatus.OFFERED):
        _slot_end(offered, SlotStatus.WITHDRAWN)
    now = timezone.now()
    slot = Slot.objects.create(
        session=session, starts_at=starts_at, status=SlotStatus.CONFIRMED, confirmed_at=now
    )
    reminders = [
        Reminder.objects.create(slot=slot, due_at=starts_at - before)
        for before in REMINDERS_BEFORE
        if starts_at - before > now
    ]
    timeline_record(
        EventKind.SLOT_CONFIRMED,
        session=session,
        actor=actor,
        slot=slot.pk,
        starts_at=starts_at.isoformat(),
        reminders=len(reminders),
        moved=True,
    )
    zone = _zone(session)
    for side in _sides(session):
        _tell_time(side, TextKey.BOOKING_TIME, slot, zone)
    return slot


def appointment_missed(*, session: RelaySession, actor: Actor = SYSTEM) -> None:
    """Nobody came (/noshow): the appointment is missed; its reminders do not go."""
    slot = session.slots.filter(status=SlotStatus.CONFIRMED).first()
    if slot is not None:
        _slot_end(slot, SlotStatus.MISSED)
    timeline_record(
        EventKind.BOOKING_NO_SHOW, session=session, actor=actor, slot=slot.pk if slot else None
    )


def slot_when(slot: Slot, language: str, zone: str) -> str:
    """Tue 8 Dec, 10:00, in the workflow's time zone and the reader's language."""
    local = slot.starts_at.astimezone(zoneinfo.ZoneInfo(zone))
    with translation.override(language):
        return formats.date_format(local, "D j M, H:i")


def _taken(slot: Slot) -> bool:
    """This session has its appointment already, or the partner contact has another one
    at that time."""
    session = slot.session
    if session.slots.filter(status=SlotStatus.CONFIRMED).exists():
        return True
    partner = _side(session, Role.PARTNER)
    return (
        partner is not None
        and Slot.objects.filter(
            status=SlotStatus.CONFIRMED,
            starts_at=slot.starts_at,
            session__participants__contact=partner.contact_id,
            session__participants__active=True,
        )
        .exclude(session=session)
        .exists()
    )


def _slot_end(slot: Slot, status: str) -> None:
    slot.status = status
    slot.save(update_fields=["status"])
    slot.reminders.filter(sent_at__isnull=True).update(cancelled=True)


def _status_follows(session: RelaySession, to: str, actor: Actor) -> None:
    from routing.services.bookings import booking_status_follow  # routing builds on relay

    booking_status_follow(session=session, to=to, actor=actor)


def _send_list(session: RelaySession, customer: Participant, slots: list[Slot]) -> None:
    language, zone = contact_language(customer.contact, session.pool), _zone(session)
    text = text_render(TextKey.SLOTS_OFFER, language=language, ref=session.external_ref, zone=zone)
    rows = [
        {"id": f"{PICK}{slot.pk}", "title": slot_when(slot, language, zone)[:24]} for slot in slots
    ]
    interactive = {
        "type": "list",
        "body": {"text": text},
        "action": {
            "button": text_render(TextKey.SLOTS_BUTTON, language=language)[:20],
            "sections": [
                {
                    "title": text_render(TextKey.SLOTS_SECTION, language=language)[:24],
                    "rows": rows,
                }
            ],
        },
    }
    notice_queue(
        contact=customer.contact,
        proxy_number=customer.proxy_number,
        text=text,
        session=session,
        participant=customer,
        interactive=interactive,
    )


def _tell_time(participant: Participant, key: TextKey, slot: Slot, zone: str) -> None:
    """Outside their 24-hour window it waits, and a template invites them back."""
    session = participant.session
    language = contact_language(participant.contact, session.pool)
    text = text_render(
        key,
        language=language,
        ref=session.external_ref,
        when=slot_when(slot, language, zone),
        zone=zone,
    )
    message_queue(participant=participant, origin=Origin.NOTICE, body=text)


def _zone(session: RelaySession) -> str:
    from routing.selectors import workflow_find  # routing builds on relay

    return workflow_find(session.workflow).zone


def _side(session: RelaySession, role: str) -> Participant | None:
    return session_sides(session).get(role)


def _sides(session: RelaySession) -> list[Participant]:
    return list(session_sides(session).values())
