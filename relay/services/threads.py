"""Which session an inbound message belongs to when its sender shares one of our numbers
between several: the reply context, a #tag, or the "which booking?" list."""

import re
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from relay.choices import Direction, EventKind, MessageStatus, Origin, RejectReason, TextKey
from relay.deferred import writes_flush
from relay.models import Message, Participant
from relay.pairs import pair_in
from relay.prefetch import prefetch_put, prefetch_take
from relay.selectors import reader_language
from relay.services.messages import inbound_reject, message_bind, message_set_status
from relay.services.queueing import notice_queue
from relay.services.sessions import session_expire
from relay.texts import text_alias, text_render
from relay.timeline import timeline_record

TAG = re.compile(r"#([A-Za-z2-9]{4})\b")
THREAD_CHOICE = "thread:"
CHOICE_ASKED_WITHIN = timedelta(hours=1)
AMBIGUOUS = object()


def thread_find(message: Message):
    """The live participant of the message's pair it belongs to, None, or AMBIGUOUS (then
    the sender has been asked which booking they mean)."""
    candidates = _live_candidates(message)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    quoted = message_quoted(message)
    for candidate in candidates:
        if quoted and quoted.session_id == candidate.session_id:
            return candidate
    tags = {tag.upper() for tag in TAG.findall(message.body)}
    matching = [c for c in candidates if c.thread_tag in tags]
    if len(matching) == 1:
        return matching[0]
    _ask_which_thread(message, candidates)
    return AMBIGUOUS


def thread_chosen_id(message: Message) -> str | None:
    """The participant id a tap on the "which booking?" list names; None for anything else."""
    raw = message.payload
    choice = ((raw.get("interactive") or {}).get("list_reply") or {}).get("id", "")
    return choice.removeprefix(THREAD_CHOICE) if choice.startswith(THREAD_CHOICE) else None


def thread_choose(message: Message, participant_id: str) -> tuple[Participant, list[Message]]:
    """The sender picked a conversation: returns it and the messages that waited for the
    choice, oldest first; or (None, []) if that conversation has ended."""
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
    if participant is None or not participant.session.is_live():
        inbound_reject(message, RejectReason.THREAD_ENDED, TextKey.ENDED)
        return None, []
    writes_flush()  # a round may still hold back that one of them waits
    waiting = Message.objects.filter(
        contact=message.contact,
        proxy_number=message.proxy_number,
        direction=Direction.INBOUND,
        status=MessageStatus.AWAITING_CHOICE,
    ).order_by("id")
    message_bind(message, participant)
    timeline_record(EventKind.THREAD_CHOSEN, message=message)
    return participant, list(waiting)


def thread_strip_tag(body: str, participant: Participant) -> str:
    """The sender's own #tag is for us, not for the other side."""
    if not body:
        return body
    own = participant.thread_tag
    return TAG.sub(lambda m: "" if m.group(1).upper() == own else m.group(), body).strip()


def message_quoted(message: Message, wamid: str | None = None) -> Message | None:
    """The message on this leg that `message` quotes (or `wamid` names), if we know it."""
    wamid = wamid or (message.payload.get("context") or {}).get("id")
    if not wamid:
        return None
    writes_flush()  # it may be one a round has not written all of yet
    return Message.objects.filter(
        provider_message_id=wamid, contact=message.contact, proxy_number=message.proxy_number
    ).first()


def bindings_prefetch(pairs: set[tuple[int, int]]) -> None:
    """Read the sessions of a round's pairs (contact id, proxy number id) in one query
    (relay/prefetch.py)."""
    everyone = _sessions_of(pair_in(Participant, pairs))
    for pair in pairs:
        sessions = {p.session_id for p in everyone if (p.contact_id, p.proxy_number_id) == pair}
        prefetch_put("bindings", pair, [p for p in everyone if p.session_id in sessions])


def _sessions_of(bindings) -> list[Participant]:
    """Everyone in the sessions where `bindings` match an active participant."""
    sessions = Participant.objects.filter(bindings, active=True).values("session")
    return list(
        Participant.objects.filter(session__in=sessions).select_related(
            "session__partner", "session__pool", "contact", "proxy_number"
        )
    )


def _live_candidates(message: Message) -> list[Participant]:
    """The live bindings of the message's pair, each with the other side of its session
    (`counterpart`), in one query."""
    pair = (message.contact_id, message.proxy_number_id)
    everyone = prefetch_take("bindings", pair)
    if everyone is None:
        everyone = _sessions_of(Q(contact=pair[0], proxy_number=pair[1]))
    candidates = []
    for participant in everyone:
        if not participant.active or (participant.contact_id, participant.proxy_number_id) != pair:
            continue
        others = [p for p in everyone if p.session_id == participant.session_id]
        participant.counterpart = next(
            (p for p in others if p.pk != participant.pk and p.active), None
        )
        if participant.session.is_live():
            candidates.append(participant)
        else:
            session_expire(session=participant.session)
    return candidates


def _ask_which_thread(message: Message, candidates: list[Participant]) -> None:
    already_asked = Message.objects.filter(
        contact=message.contact,
        proxy_number=message.proxy_number,
        origin=Origin.NOTICE,
        type="interactive",
        created_at__gte=timezone.now() - CHOICE_ASKED_WITHIN,
    ).exists()
    message_set_status(message, MessageStatus.AWAITING_CHOICE)
    timeline_record(EventKind.MESSAGE_AWAITING_CHOICE, message=message, sessions=len(candidates))
    if already_asked:
        return
    language = reader_language(message.contact, message.proxy_number)

    def text(key: TextKey, **values) -> str:
        return text_render(key, language=language, **values)

    rows = []
    for candidate in candidates[:10]:  # a list message holds ten rows
        other = candidate.session.participants.filter(active=True).exclude(pk=candidate.pk).first()
        with_whom = text(TextKey.WHICH_BOOKING_ROW, name=text_alias(other, language=language))
        rows.append(
            {
                "id": f"{THREAD_CHOICE}{candidate.pk}",
                "title": f"#{candidate.thread_tag} {candidate.session.external_ref}"[:24],
                "description": with_whom[:72] if other else "",
            }
        )
    interactive = {
        "type": "list",
        "body": {"text": text(TextKey.WHICH_BOOKING)},
        "footer": {"text": text(TextKey.WHICH_BOOKING_FOOTER)[:60]},
        "action": {
            "button": text(TextKey.WHICH_BOOKING_BUTTON)[:20],
            "sections": [{"title": text(TextKey.WHICH_BOOKING_SECTION)[:24], "rows": rows}],
        },
    }
    notice_queue(
        contact=message.contact, proxy_number=message.proxy_number, interactive=interactive
    )


def inbound_expire_unchosen(*, now) -> int:
    """Messages whose sender never said which conversation they meant are not relayed days
    later: after a day they are dropped from the queue (and kept in the transcript)."""
    return Message.objects.filter(
        direction=Direction.INBOUND,
        status=MessageStatus.AWAITING_CHOICE,
        created_at__lte=now - timedelta(hours=24),
    ).update(status=MessageStatus.REJECTED)
