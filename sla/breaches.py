"""What follows a breach: who let the clock run out, the session flagged, the silent partner
chased through the masked thread, and, once the policy's escalation interval has passed with
the clock still running, the escalation (to the partner's next contact or the team lead)."""

from contextlib import suppress
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from relay.choices import EventKind, Priority, Role, SessionMode
from relay.exceptions import RelayError
from relay.models import TimelineEvent
from relay.services.followups import follow_up
from relay.services.sessions import session_flag, session_reroute
from relay.timeline import SYSTEM, timeline_record
from routing.models import PartnerContact
from sla.alerts import supervisors_tell
from sla.clocks import PARTNER_CLOCKS
from sla.models import EscalateTo, SlaClock

BREACHED_TAG = "sla-breached"
# A partner reminded this recently (by hand or by another breach) is not reminded again.
CHASE_QUIET = timedelta(minutes=10)


def breach_owner(clock: SlaClock) -> tuple[str, str]:
    """("partner" | "agent" | "team", its code, username or slug), ("", "") for nobody.
    The partner owes its own clocks, and every clock of a direct session (it answers and
    confirms there); in a mediated session or in triage the agent does, else their team."""
    session = clock.session
    if session.partner_id and (clock.clock in PARTNER_CLOCKS or session.mode == SessionMode.DIRECT):
        return "partner", session.partner.code
    if session.assignee_id:
        return "agent", session.assignee.get_username()
    if session.team_id:
        return "team", session.team.slug
    return "", ""


def breach_follow_up(clock: SlaClock) -> None:
    session = clock.session
    session_flag(session=session, tag=BREACHED_TAG, priority=Priority.URGENT)
    if clock.breached_by != "partner" or _reminded_lately(session):
        return
    # No partner contact left to remind: the supervisors' mail stands.
    with suppress(RelayError):
        follow_up(session=session, actor=SYSTEM, asking=Role.CUSTOMER)  # the partner owes


def breach_escalate(clock: SlaClock) -> None:
    clock.escalated_at = clock.escalates_at
    clock.save(update_fields=["escalated_at"])
    session, contact = clock.session, None
    if clock.version.escalate_to == EscalateTo.NEXT_CONTACT and clock.breached_by == "partner":
        contact = _next_contact(session)
    if contact is not None:
        try:
            with transaction.atomic():  # all of the move, or none of it
                session_reroute(
                    session=session,
                    partner=session.partner,
                    partner_contact=contact,
                    to_another_contact=True,
                )
                follow_up(session=session, actor=SYSTEM, asking=Role.CUSTOMER)
        except RelayError:
            contact = None  # the number cannot move (a pool reserved, say): the lead is told
    if contact is None:
        supervisors_tell(clock, EventKind.SLA_ESCALATED)
    timeline_record(
        EventKind.SLA_ESCALATED,
        session=session,
        clock=clock.clock,
        clock_id=clock.pk,
        to=EscalateTo.NEXT_CONTACT if contact else EscalateTo.TEAM_LEAD,
        **({"partner_contact_id": contact.pk} if contact else {}),
    )


def _reminded_lately(session) -> bool:
    return TimelineEvent.objects.filter(
        session=session,
        kind=EventKind.SESSION_FOLLOWED_UP,
        created_at__gte=timezone.now() - CHASE_QUIET,
    ).exists()


def _next_contact(session) -> PartnerContact | None:
    """The partner's contact after the one on the session, in the admin's order (round to the
    first); None when it has no other."""
    current = (
        session.participants.filter(role=Role.PARTNER, active=True)
        .values_list("contact_id", flat=True)
        .first()
    )
    contacts = list(session.partner.contacts.select_related("contact").order_by("pk"))
    others = [each for each in contacts if each.contact_id != current]
    if not others:
        return None
    at = next((n for n, each in enumerate(contacts) if each.contact_id == current), -1)
    later = [each for each in contacts[at + 1 :] if each.contact_id != current]
    return (later or others)[0]
