"""The built-in actions slash commands are bound to. Each gets the session, the command, the
arguments read for it and who runs it; it makes its change (raising RelayError, in words,
when it cannot) and returns what was done, for the reply."""

from collections.abc import Callable

from relay.choices import CommandAction, Role, TextKey
from relay.commands.arguments import ArgumentError, arguments_read
from relay.exceptions import RelayError
from relay.models import Command, Participant, RelaySession
from relay.services.followups import follow_up
from relay.services.handovers import handover_ask
from relay.services.notes import note_add
from relay.services.queueing import notice_send
from relay.services.quotes import lead_time_words, quote_receive
from relay.services.sessions import session_close, session_flag
from relay.services.slots import slot_times_read, slots_offer
from relay.timeline import Actor

Action = Callable[[RelaySession, Command, list, Actor], str]


def _set_status(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    from routing.selectors import workflow_find  # routing builds on relay
    from routing.services.bookings import booking_status_set

    reference = args[0] if args else None
    if reference and reference != session.external_ref.upper():
        raise RelayError(f"this conversation is about {session.external_ref}, not {reference}")
    booking_status_set(session=session, to=command.value, actor=actor)
    customer = session.participants.select_related("contact", "proxy_number").filter(
        role=Role.CUSTOMER, active=True
    )
    for participant in customer:
        notice_send(
            contact=participant.contact,
            proxy_number=participant.proxy_number,
            key=TextKey.BOOKING_NOW,
            session=session,
            participant=participant,
            ref=session.external_ref,
            status=workflow_find(session.workflow).words_for(command.value),
        )
    return f"booking {session.external_ref} is now {command.value}"


def _add_tag(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    tag = (command.value or (args[0] if args else "")).strip()
    if not tag:
        raise RelayError("write the tag after the command")
    session_flag(session=session, tag=tag, actor=actor)
    return f"tagged {tag}"


def _close(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    session_close(session=session, reason=f"closed with /{command.name}", actor=actor)
    return "the session is closed"


def _reroute(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    from routing.models import Partner  # routing builds on relay
    from routing.services.bookings import booking_reroute

    code = _by_kind(command, args).get("partner_code") or ""
    partner = Partner.objects.filter(code=code).first()
    if partner is None:
        raise RelayError(f"there is no partner {code}")
    booking_reroute(session=session, partner=partner, contact_role=command.value, actor=actor)
    return f"the session is now with {partner.code}"


def _follow_up(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    asking = _participant_of(session, actor)
    reminded = follow_up(session=session, actor=actor, asking=asking.role if asking else None)
    return f"the {reminded.role} was reminded"


def _quote(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    """A price, a lead time (or the one the command's value fixes: /QUOTE_24HRS), terms."""
    given = _by_kind(command, args)
    if not given.get("money"):
        raise RelayError("the command takes no amount; tell an admin")
    lead_time = given.get("duration")
    if command.value:
        try:
            lead_time = arguments_read(["duration"], command.value)[0]
        except ArgumentError as exc:
            raise RelayError(f"its lead time is wrong ({exc}); tell an admin") from None
    quote = quote_receive(
        session=session,
        price=given["money"],
        lead_time=lead_time,
        terms=given.get("text") or "",
        actor=actor,
    )
    return (
        f"quote {quote.pk} of {given['money']} in {lead_time_words(lead_time)} waits for an agent"
    )


def _handover(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    asking = _participant_of(session, actor)
    handover_ask(session=session, actor=actor, by=asking)
    asked = "the other side is" if asking else "both sides are"
    return f"{asked} asked whether they agree to exchange numbers"


def _note(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    text = _by_kind(command, args).get("text") or ""
    if not text.strip():
        raise RelayError("write the note after the command")
    note_add(session=session, text=text, actor=actor)
    return "note added"


def _offer_slots(session: RelaySession, command: Command, args: list, actor: Actor) -> str:
    from routing.selectors import workflow_find  # routing builds on relay

    zone = workflow_find(session.workflow).zone
    times = slot_times_read(_by_kind(command, args).get("text") or "", zone=zone)
    slots = slots_offer(session=session, times=times, actor=actor)
    return f"{len(slots)} times were offered to the customer"


def _by_kind(command: Command, args: list) -> dict:
    """The values read, by the kind of argument they are (money, text...)."""
    return dict(zip((kind.removesuffix("?") for kind in command.arguments), args, strict=True))


def _participant_of(session: RelaySession, actor: Actor) -> Participant | None:
    """The participant who runs the command; None for agents and API clients."""
    if actor.contact_id is None:
        return None
    return session.participants.filter(active=True, contact_id=actor.contact_id).first()


ACTIONS: dict[str, Action] = {
    CommandAction.SET_STATUS: _set_status,
    CommandAction.ADD_TAG: _add_tag,
    CommandAction.CLOSE: _close,
    CommandAction.REROUTE: _reroute,
    CommandAction.FOLLOW_UP: _follow_up,
    CommandAction.QUOTE: _quote,
    CommandAction.HANDOVER: _handover,
    CommandAction.NOTE: _note,
    CommandAction.OFFER_SLOTS: _offer_slots,
}
