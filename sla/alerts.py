"""Telling supervisors of a warning or a breach, by e-mail, once each (the scan records each
crossing once; the mail goes after that record has committed)."""

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction

from relay.choices import EventKind
from sla.models import SlaClock

logger = logging.getLogger(__name__)


WHAT = {
    EventKind.SLA_WARNING: "is close to its target",
    EventKind.SLA_BREACHED: "ran past its target",
    EventKind.SLA_ESCALATED: "is still past its target: escalated to you",
}


def supervisors_tell(clock: SlaClock, kind: EventKind) -> None:
    """Mail the supervisors of the session's team (every supervisor when it has none)."""
    session = clock.session
    users = get_user_model().objects.filter(agent__supervisor=True, is_active=True)
    if session.team_id:
        users = users.filter(agent__teams=session.team_id)
    recipients = sorted({user.email for user in users if user.email})
    if not recipients:
        return
    what = WHAT[kind]
    due = clock.due_at.strftime("%Y-%m-%d %H:%M UTC") if clock.due_at else "-"
    partner = session.partner.name if session.partner_id else "no partner yet (triage)"
    subject = f"[{settings.AGGREGATOR_NAME}] {session.external_ref}: {clock.clock} {what}"
    body = (
        f"Booking {session.external_ref} ({session.workflow}), session {session.pk}.\n"
        f"Clock {clock.clock} {what}: due {due}.\nPartner: {partner}.\n"
        + (
            f"Let run out by: {clock.breached_by} {clock.breached_by_key}.\n"
            if clock.breached_by
            else ""
        )
    )
    transaction.on_commit(partial(_send, subject, body, recipients))


def _send(subject: str, body: str, recipients: list[str]) -> None:
    try:
        send_mail(subject, body, None, recipients)
    except Exception:  # the crossing is recorded; a mail server that is down must not undo it
        logger.exception("SLA mail '%s' not sent", subject)
