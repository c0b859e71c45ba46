"""Following up: reminding the side of a session that owes the next answer. Outside their
24-hour window the reminder waits and an approved template invites them back (windows.py)."""

from relay.choices import Direction, EventKind, MessageStatus, Origin, Role, TextKey
from relay.exceptions import RelayError
from relay.models import Participant, RelaySession
from relay.selectors import contact_language, session_sides
from relay.services.queueing import message_queue
from relay.texts import text_render
from relay.timeline import Actor, timeline_record


def side_owing_answer(session: RelaySession, *, asking: str | None = None) -> Participant | None:
    """The side other than `asking` (a role) when a participant asks; otherwise whoever did
    not write the last message of the session, the partner if nobody wrote."""
    sides = session_sides(session)
    last = asking or (
        session.messages.filter(direction=Direction.INBOUND, participant__isnull=False)
        .exclude(status=MessageStatus.COMMAND)
        .order_by("-id")
        .values_list("participant__role", flat=True)
        .first()
    )
    owing = Role.CUSTOMER if last == Role.PARTNER else Role.PARTNER
    return sides.get(owing)


def follow_up(*, session: RelaySession, actor: Actor, asking: str | None = None) -> Participant:
    """Remind the side that owes the next answer (`asking`: the role of a participant who
    asks); returns who was reminded."""
    if not session.is_live():
        raise RelayError("the session has ended")
    participant = side_owing_answer(session, asking=asking)
    if participant is None:
        raise RelayError("nobody owes an answer yet: the session has no partner")
    text = text_render(
        TextKey.FOLLOW_UP,
        language=contact_language(participant.contact, session.pool),
        ref=session.external_ref,
    )
    message_queue(participant=participant, origin=Origin.NOTICE, body=text, actor=actor)
    timeline_record(
        EventKind.SESSION_FOLLOWED_UP, session=session, actor=actor, role=participant.role
    )
    return participant
