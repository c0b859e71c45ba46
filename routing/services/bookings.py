"""Opening a booking's session as its workflow says (mode, first status, opening messages),
and moving the booking through the workflow's statuses."""

from django.db import transaction

from relay.choices import LIVE_SESSION_STATUSES, EventKind, Role
from relay.crypto import lookup_hash
from relay.exceptions import RelayError, SessionNotLive
from relay.models import RelaySession
from relay.phones import normalise_e164
from relay.services.openings import openings_queue
from relay.services.sessions import PartyInput, session_open_or_get, session_reopen, session_reroute
from relay.services.slots import appointment_missed
from relay.timeline import SYSTEM, Actor, timeline_record
from routing.models import Partner, Workflow
from routing.selectors import partner_contact_for, workflow_find
from routing.services.assignment import session_assign, session_assign_in_team

NO_SHOW = "no_show"  # the status that says nobody came: the appointment is missed


@transaction.atomic
def booking_open(
    *,
    workflow: str,
    mode: str = "",
    agent=None,
    openings_to=(Role.CUSTOMER, Role.PARTNER),
    **kwargs,
) -> tuple[RelaySession, bool]:
    """Open (or find live, as session_open_or_get does) the session of a booking of
    `workflow`: in the workflow's mode unless `mode` says otherwise, at its first status;
    the participants of `openings_to` the workflow names are told at once. It goes to
    `agent` (a user), else to an agent of its team as the team assigns."""
    flow = workflow_find(workflow)
    kwargs.setdefault("booking_status", flow.first_status)
    reopened = flow.sessions_per_booking == "one" and _reopened(flow, **kwargs)
    if reopened:
        return reopened, False
    session, created = session_open_or_get(workflow=flow.slug, mode=mode or flow.mode, **kwargs)
    if not created:
        return session, False
    openings_queue(
        session=session, templates={role: flow.opening_for(role) for role in openings_to}
    )
    if agent is not None:
        session_assign(session=session, user=agent)
    elif session.team is not None:
        session_assign_in_team(session=session, team=session.team)
    return session, True


@transaction.atomic
def booking_reroute(
    *, session: RelaySession, partner: Partner, contact_role: str = "", actor: Actor = SYSTEM
) -> RelaySession:
    """Move the session to `partner` (its contact of `contact_role`, else its first), who is
    told of the booking as its workflow says."""
    contact = partner_contact_for(partner, contact_role)
    session_reroute(session=session, partner=partner, partner_contact=contact, actor=actor)
    session.refresh_from_db()
    flow = Workflow.objects.filter(slug=session.workflow).first()
    if flow is not None and flow.partner_opening:
        openings_queue(session=session, templates={Role.PARTNER: flow.partner_opening})
    return session


def _reopened(flow: Workflow, **kwargs) -> RelaySession | None:
    """The booking's ended session with the same customer and partner, reopened; None when
    there is none, or its numbers went to other sessions meanwhile (a new one opens)."""
    customer = kwargs.get("customer")
    if not isinstance(customer, PartyInput) or kwargs.get("partner") is None:
        return None
    ended = (
        RelaySession.objects.filter(
            external_ref=kwargs["external_ref"],
            workflow=flow.slug,
            partner=kwargs["partner"],
            participants__role=Role.CUSTOMER,
            participants__contact__phone_hash=lookup_hash(normalise_e164(customer.phone)),
        )
        .exclude(status__in=LIVE_SESSION_STATUSES)
        .order_by("-pk")
        .first()
    )
    if (
        ended is None
        or RelaySession.objects.filter(
            external_ref=ended.external_ref, status__in=LIVE_SESSION_STATUSES
        ).exists()
    ):
        return None
    try:
        with transaction.atomic():
            return session_reopen(session=ended, actor=kwargs.get("actor", SYSTEM))
    except SessionNotLive:
        return None


@transaction.atomic
def booking_status_set(*, session: RelaySession, to: str, actor: Actor = SYSTEM) -> RelaySession:
    """Move the booking to status `to`, if its workflow allows it from where it stands."""
    flow = workflow_find(session.workflow)
    session = RelaySession.objects.select_for_update().get(pk=session.pk)
    current = session.booking_status
    if to not in flow.statuses:
        raise RelayError(
            f"'{to}' is not a status of {flow.name}; its statuses: {', '.join(flow.statuses)}",
            field="status",
        )
    if not flow.may_move(current, to):
        allowed = ", ".join(flow.transitions.get(current, [])) or "none"
        raise RelayError(
            f"a booking that is {current} cannot become {to}; from {current}: {allowed}",
            field="status",
        )
    session.booking_status = to
    session.save(update_fields=["booking_status"])
    timeline_record(
        EventKind.BOOKING_STATUS_CHANGED,
        session=session,
        actor=actor,
        **{"from": current, "to": to},
    )
    if to == NO_SHOW:
        appointment_missed(session=session, actor=actor)
    return session


def booking_status_follow(*, session: RelaySession, to: str, actor: Actor = SYSTEM) -> None:
    """What happened moves the booking to `to` (a quote sent: quoted), if its workflow has
    that status and allows the move; otherwise it stays where it is."""
    flow = workflow_find(session.workflow)
    session.refresh_from_db(fields=["booking_status"])
    if to in flow.statuses and flow.may_move(session.booking_status, to):
        booking_status_set(session=session, to=to, actor=actor)
