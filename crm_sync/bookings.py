"""Updates from the booking system, the system of record: a booking's status moved, its
time changed, it was cancelled, or it went to another partner. Each change goes through the
same services as everywhere (on the timeline, so an event goes to every subscribed CRM), and
both sides are told through the masked thread, in the workflow's words."""

from datetime import datetime

from django.db import transaction

from relay.choices import Origin, TextKey
from relay.exceptions import NotFound, SessionNotLive
from relay.models import RelaySession
from relay.selectors import contact_language, session_sides
from relay.services.queueing import message_queue
from relay.services.slots import appointment_set
from relay.texts import text_render
from relay.timeline import Actor
from routing.models import Partner
from routing.selectors import workflow_find
from routing.services.bookings import booking_reroute, booking_status_set


def booking_session(external_ref: str) -> RelaySession:
    """The booking's latest session (its live one, when it has one)."""
    sessions = RelaySession.objects.filter(external_ref=external_ref)
    session = sessions.order_by("-created_at", "-pk").first()
    if session is None:
        raise NotFound(f"no booking '{external_ref}'")
    return session


@transaction.atomic
def booking_update(
    *,
    session: RelaySession,
    actor: Actor,
    status: str | None = None,
    starts_at: datetime | None = None,
    partner: Partner | None = None,
) -> RelaySession:
    if (starts_at or partner) and not session.is_live():
        raise SessionNotLive("the booking's conversation has ended: its time and partner stay")
    if partner is not None and partner.pk != session.partner_id:
        booking_reroute(session=session, partner=partner, actor=actor)
    if starts_at is not None:
        appointment_set(session=session, starts_at=starts_at, actor=actor)
    if status is not None and status != session.booking_status:
        session = booking_status_set(session=session, to=status, actor=actor)
        if session.is_live():
            _tell_status(session, status)
    session.refresh_from_db()
    return session


def _tell_status(session: RelaySession, status: str) -> None:
    words = workflow_find(session.workflow).words_for(status)
    for participant in session_sides(session).values():
        language = contact_language(participant.contact, session.pool)
        text = text_render(
            TextKey.BOOKING_NOW, language=language, ref=session.external_ref, status=words
        )
        message_queue(participant=participant, origin=Origin.NOTICE, body=text)
