"""Intake: someone with no live session writes to one of the aggregator's public (intake)
numbers. Routing opens their session, as the rules place it, and the message goes on its
way in it. The customer keeps the number they wrote to; the partner gets a relay number."""

import secrets

from django.db import transaction

from relay import phones
from relay.choices import EventKind, NumberKind, Role
from relay.exceptions import RelayError
from relay.models import Message, Participant
from relay.services.alerts import alert_raise
from relay.timeline import timeline_record
from routing.conditions import Sample
from routing.models import RoutingDecision, Workflow
from routing.rules import Decision, rules_run
from routing.selectors import partner_contact_for
from routing.services.bookings import booking_open

DEFAULT_WORKFLOW = "booking"
GENERATED_REF_PREFIX = "IN-"  # a reference made up for a session nobody gave one
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def sample_of(message: Message) -> Sample:
    """What the rules see of an inbound message."""
    media = message.payload.get(message.type) if isinstance(message.payload, dict) else None
    number = message.proxy_number
    return Sample(
        text=message.body,
        type=message.type,
        mime_type=(media or {}).get("mime_type", "") if isinstance(media, dict) else "",
        number=number.e164,
        workflow=number.intake_workflow or DEFAULT_WORKFLOW,
        tags=set(message.contact.tags or []),
        at=message.wa_timestamp,
        region=phones.region_of(message.contact.phone) if message.contact.phone else None,
    )


@transaction.atomic(savepoint=False)  # with the inbound message's own handling
def intake_open(message: Message) -> Participant | None:
    """Open the session a message to an intake number starts; the customer's participant.
    None when the number is not an intake number."""
    number = message.proxy_number
    if number.kind != NumberKind.INTAKE:
        return None
    decision = rules_run(sample_of(message))
    try:
        session = _open(message, decision)
    except RelayError as exc:  # the partner chosen cannot take it: it waits in triage instead
        if decision.placement.partner is None:
            raise
        alert_raise(
            "intake_partner_unreachable",
            f"A message to intake number {number.e164} was routed to partner "
            f"{decision.placement.partner.code}, but no session could open with them: "
            f"{exc.message}. It waits in triage.",
        )
        decision.steps.append({"rule": None, "name": "partner unreachable", "did": [exc.message]})
        decision.placement.partner = None
        session = _open(message, decision)
    _record(session, message, decision)
    return session.participants.select_related("session", "contact", "proxy_number").get(
        role=Role.CUSTOMER
    )


def _open(message: Message, decision: Decision):
    placement, number = decision.placement, message.proxy_number
    session, _ = booking_open(
        external_ref=placement.external_ref or _new_reference(),
        workflow=_workflow(placement.workflow, number),
        mode=placement.mode,
        customer=message.contact,
        partner=placement.partner,
        partner_contact=partner_contact_for(placement.partner, placement.contact_role),
        customer_number=number,
        reuse_live=False,
        team=placement.team,
        agent=placement.agent,
        tags=placement.tags,
        **({"priority": placement.priority} if placement.priority else {}),
        openings_to={Role.PARTNER},  # the customer has just written: their window is open
    )
    return session


def _workflow(chosen: str, number) -> str:
    """The rules' workflow, else the number's, else the default; one that was removed is
    passed over (an operator is told): the message is not lost for it."""
    wanted = [slug for slug in (chosen, number.intake_workflow, DEFAULT_WORKFLOW) if slug]
    known = set(Workflow.objects.filter(slug__in=wanted).values_list("slug", flat=True))
    for slug in wanted:
        if slug in known:
            break
        alert_raise(
            "intake_workflow_missing",
            f"Intake number {number.e164} opened a session without workflow '{slug}', which "
            "does not exist; set another on the number or the rule.",
        )
    else:
        slug = Workflow.objects.order_by("pk").values_list("slug", flat=True).first() or ""
    return slug


def _record(session, message: Message, decision: Decision) -> None:
    RoutingDecision.objects.create(
        session=session, message=message, steps=decision.steps, triage=decision.triage
    )
    rules = [step["rule"] for step in decision.steps]
    if decision.triage:
        timeline_record(EventKind.SESSION_TRIAGED, session=session, message=message, rules=rules)
        return
    timeline_record(
        EventKind.SESSION_ROUTED,
        session=session,
        message=message,
        rules=rules,
        partner_id=session.partner_id,
        team_id=session.team_id,
        **({"sla_policy": decision.placement.sla_policy} if decision.placement.sla_policy else {}),
    )


def _new_reference() -> str:
    """A booking reference for a session nobody gave one: short, and easy to read out."""
    return GENERATED_REF_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
