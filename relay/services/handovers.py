"""Consented handover: both sides of a session are asked, with buttons, whether they agree to
exchange their real numbers. Only two yeses share them (each receives the other's contact
card) and stop redaction for the session; a no, a yes taken back, or silence for
HANDOVER_WAIT ends it, and whoever had agreed is told."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from relay.choices import EventKind, HandoverStatus, Role, TextKey
from relay.exceptions import RelayError
from relay.models import Handover, Message, Participant, RelaySession
from relay.selectors import contact_language, session_sides
from relay.services.queueing import message_queue, notice_queue, notice_send
from relay.texts import text_alias, text_render
from relay.timeline import SYSTEM, Actor, timeline_record

HANDOVER_WAIT = timedelta(hours=48)
BUTTON = "handover:"  # a button's id: handover:<id>:yes or handover:<id>:no


@transaction.atomic
def handover_ask(*, session: RelaySession, actor: Actor, by: Participant | None = None) -> Handover:
    """Ask both sides (or, when one side asks, the other: asking is agreeing, and the asker
    is given a No button to take it back)."""
    session = RelaySession.objects.select_for_update().get(pk=session.pk)
    sides = _sides(session)
    if session.handed_over:
        raise RelayError("the numbers of this session have been exchanged already")
    if session.handovers.filter(status=HandoverStatus.ASKED).exists():
        raise RelayError("both sides have been asked already; wait for their answers")
    for participant in sides.values():
        if not participant.contact.phone:
            raise RelayError(f"the {participant.role} has no phone number that could be shared")
    now = timezone.now()
    handover = Handover.objects.create(session=session, expires_at=now + HANDOVER_WAIT)
    timeline_record(
        EventKind.HANDOVER_REQUESTED, session=session, actor=actor, handover=handover.pk
    )
    for role, participant in sides.items():
        if by is not None and by.role == role:
            _agree(handover, role, now, actor)
            _ask(handover, participant, other=sides[_other(role)], asked=False)
            continue
        _ask(handover, participant, other=sides[_other(role)])
    handover.save()
    return handover


def handover_button(message: Message) -> tuple[int, bool] | None:
    """(handover id, yes?) when `message` is a tap on a handover button."""
    reply = (message.payload.get("interactive") or {}).get("button_reply") or {}
    parts = str(reply.get("id", "")).split(":")
    if len(parts) != 3 or f"{parts[0]}:" != BUTTON or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2] == "yes"


@transaction.atomic(savepoint=False)
def handover_answer(*, participant: Participant, handover_id: int, yes: bool) -> Handover | None:
    """`participant` tapped yes or no. An answer to a handover that has ended is told so."""
    session = participant.session
    handover = Handover.objects.select_for_update().filter(pk=handover_id, session=session).first()
    if handover is not None and handover.status == HandoverStatus.COMPLETED:
        return handover  # a late tap on buttons already answered: nothing to say
    if handover is None or handover.status != HandoverStatus.ASKED:
        _tell(participant, TextKey.HANDOVER_OFF)
        return handover
    actor, role = Actor.of_participant(participant), participant.role
    sides = _sides(session, strict=False)
    if yes and (handover.expires_at <= timezone.now() or len(sides) < 2):
        _end(handover, HandoverStatus.EXPIRED, EventKind.HANDOVER_EXPIRED, SYSTEM)
        _tell(participant, TextKey.HANDOVER_OFF)
        return handover
    if yes:
        _agree(handover, role, timezone.now(), actor)
        if handover.customer_agreed_at and handover.partner_agreed_at:
            _complete(handover, sides)
        else:
            _tell(participant, TextKey.HANDOVER_WAIT, other=sides[_other(role)])
        handover.save()
        return handover
    withdrawn = _agreed_at(handover, role) is not None
    _end(
        handover,
        HandoverStatus.WITHDRAWN if withdrawn else HandoverStatus.DECLINED,
        EventKind.HANDOVER_WITHDRAWN if withdrawn else EventKind.HANDOVER_DECLINED,
        actor,
        role=role,
    )
    _tell(participant, TextKey.HANDOVER_KEPT)
    other = sides.get(_other(role))
    if other is not None and _agreed_at(handover, other.role):
        _tell(other, TextKey.HANDOVER_OFF)
    return handover


def handovers_end_on_reroute(*, session: RelaySession, actor: Actor) -> None:
    """The session went to another partner, who agreed to nothing: a handover being asked
    ends, and numbers exchanged before are hidden again from the new one."""
    for handover in session.handovers.select_for_update().filter(status=HandoverStatus.ASKED):
        _end(
            handover,
            HandoverStatus.WITHDRAWN,
            EventKind.HANDOVER_WITHDRAWN,
            actor,
            reason="rerouted",
        )
        customer = _sides(session, strict=False).get(Role.CUSTOMER)
        if customer is not None and handover.customer_agreed_at:
            _tell(customer, TextKey.HANDOVER_OFF)
    if session.handed_over:
        RelaySession.objects.filter(pk=session.pk).update(handed_over=False)
        session.handed_over = False


def handovers_expire(*, now=None) -> int:
    """End the handovers nobody finished in time; returns how many."""
    now = now or timezone.now()
    ended = 0
    for pk in Handover.objects.filter(status=HandoverStatus.ASKED, expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            handover = Handover.objects.select_for_update().get(pk=pk)
            if handover.status != HandoverStatus.ASKED:
                continue
            _end(handover, HandoverStatus.EXPIRED, EventKind.HANDOVER_EXPIRED, SYSTEM)
            for participant in _sides(handover.session, strict=False).values():
                if _agreed_at(handover, participant.role):
                    _tell(participant, TextKey.HANDOVER_OFF)
            ended += 1
    return ended


def _sides(session: RelaySession, *, strict: bool = True) -> dict[str, Participant]:
    sides = session_sides(session)
    if strict and (not session.is_live() or len(sides) < 2):
        raise RelayError("numbers can be exchanged only in a live session with both sides")
    return sides


def _other(role: str) -> str:
    return Role.PARTNER if role == Role.CUSTOMER else Role.CUSTOMER


def _agreed_at(handover: Handover, role: str):
    return getattr(handover, f"{role}_agreed_at")


def _agree(handover: Handover, role: str, at, actor: Actor) -> None:
    setattr(handover, f"{role}_agreed_at", at)
    timeline_record(
        EventKind.HANDOVER_ACCEPTED,
        session=handover.session,
        actor=actor,
        handover=handover.pk,
        role=role,
    )


def _end(handover: Handover, status: str, kind: EventKind, actor: Actor, **detail) -> None:
    handover.status, handover.ended_at = status, timezone.now()
    handover.save()
    timeline_record(kind, session=handover.session, actor=actor, handover=handover.pk, **detail)


def _complete(handover: Handover, sides: dict[str, Participant]) -> None:
    """Both said yes: each receives the other's card; nothing is hidden any more."""
    session = handover.session
    handover.status, handover.ended_at = HandoverStatus.COMPLETED, timezone.now()
    RelaySession.objects.filter(pk=session.pk).update(handed_over=True)
    session.handed_over = True
    for role, participant in sides.items():
        other = sides[_other(role)]
        _tell(participant, TextKey.HANDOVER_DONE, other=other)
        message_queue(
            participant=participant,
            origin="notice",
            type="contacts",
            payload={"contacts": [_card(other, participant)]},
        )
    timeline_record(EventKind.HANDOVER_COMPLETED, session=session, handover=handover.pk)


def _card(of: Participant, for_: Participant) -> dict:
    """A WhatsApp contact card of `of`'s real number, named as `for_` knows them."""
    name = text_alias(of, language=_language(for_))
    phone = of.contact.phone
    return {
        "name": {"formatted_name": name, "first_name": name},
        "phones": [{"phone": phone, "type": "CELL", "wa_id": phone.lstrip("+")}],
    }


def _ask(
    handover: Handover, participant: Participant, *, other: Participant, asked: bool = True
) -> None:
    """The question with Yes and No buttons; to one who asked (`asked` false), the
    thank-you with a No button, to take their yes back."""
    language = _language(participant)
    text = text_render(
        TextKey.HANDOVER_ASK if asked else TextKey.HANDOVER_WAIT,
        language=language,
        other=text_alias(other, language=language),
        ref=handover.session.external_ref,
    )
    answers = [("yes", TextKey.HANDOVER_YES)] if asked else []
    buttons = [
        {
            "type": "reply",
            "reply": {
                "id": f"{BUTTON}{handover.pk}:{answer}",
                "title": text_render(key, language=language)[:20],
            },
        }
        for answer, key in [*answers, ("no", TextKey.HANDOVER_NO)]
    ]
    notice_queue(
        contact=participant.contact,
        proxy_number=participant.proxy_number,
        text=text,
        session=handover.session,
        participant=participant,
        interactive={"type": "button", "body": {"text": text}, "action": {"buttons": buttons}},
    )


def _tell(participant: Participant, key: TextKey, *, other: Participant | None = None) -> None:
    values = {"ref": participant.session.external_ref}
    if other is not None:
        values["other"] = text_alias(other, language=_language(participant))
    notice_send(
        contact=participant.contact,
        proxy_number=participant.proxy_number,
        key=key,
        session=participant.session,
        participant=participant,
        **values,
    )


def _language(participant: Participant) -> str:
    return contact_language(participant.contact, participant.session.pool)
