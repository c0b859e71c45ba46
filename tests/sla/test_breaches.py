"""What follows a breach: who let it run out, the session flagged, the silent partner chased,
the escalation once the policy's interval has passed; and a change of partner or team moving
the running clocks to the policy that fits, with the time they have run."""

from datetime import timedelta

import pytest
from django.db import transaction

from relay.choices import EventKind, Origin, Priority, Role, SessionMode
from relay.models import Message, RelaySession
from relay.services.contacts import contact_get_or_create
from relay.timeline import timeline_record
from routing.actions import ActionError, action_check
from routing.models import Agent, PartnerContact, Team
from routing.services.bookings import booking_reroute
from sla.engine import clocks_scan
from sla.models import ClockState, EscalateTo
from sla.services import policy_create
from tests.relay.conftest import PARTNER, write
from tests.relay.factories import partner_with_contact
from tests.sla.conftest import MONDAY, clocks, follow, sla_kinds

SECOND_CONTACT = "+447700900456"


def reminders_to(session, role: str) -> list[Message]:
    return list(
        Message.objects.filter(
            participant__session=session, participant__role=role, origin=Origin.NOTICE
        )
    )


def participant(session, role: str):
    return session.participants.get(role=role, active=True)


def breach_event(session):
    return session.timeline.get(kind=EventKind.SLA_BREACHED, detail__clock="partner_ack")


def test_a_silent_partner_is_blamed_flagged_and_chased_once(clock, policy, open_session):
    session = open_session()
    follow(clock)
    clock.move_to(MONDAY + timedelta(hours=2))  # partner_ack and confirmation both ran out

    assert clocks_scan() == (2, 2, 0)

    ack = clocks(session)["partner_ack"]
    assert (ack.breached_by, ack.breached_by_key) == ("partner", "loc-a")
    assert breach_event(session).detail["breached_by_key"] == "loc-a"
    session.refresh_from_db()
    assert "sla-breached" in session.tags and session.priority == Priority.URGENT
    assert len(reminders_to(session, Role.PARTNER)) == 1  # two breaches, one reminder
    assert reminders_to(session, Role.CUSTOMER) == []
    assert session.timeline.filter(kind=EventKind.SESSION_FOLLOWED_UP).count() == 1
    assert session.timeline.filter(kind=EventKind.SESSION_TAGGED).count() == 1


@pytest.mark.parametrize(
    ("assigned", "owner"), [(True, ("agent", "asha")), (False, ("team", "desk"))]
)
def test_in_a_mediated_session_the_agent_or_else_the_team_let_it_run_out(
    clock, policy, open_session, django_user_model, assigned, owner
):
    desk = Team.objects.create(slug="desk", name="Desk")
    asha = django_user_model.objects.create_user("asha")
    session = open_session(mode=SessionMode.MEDIATED)
    RelaySession.objects.filter(pk=session.pk).update(
        team=desk, assignee=asha if assigned else None
    )
    follow(clock)
    clock.move_to(MONDAY + timedelta(minutes=31))  # confirmation is due at 30 minutes

    clocks_scan()

    confirmation = clocks(session)["confirmation"]
    assert (confirmation.breached_by, confirmation.breached_by_key) == owner
    assert reminders_to(session, Role.PARTNER) == []  # the partner owed nothing


def escalating_policy(escalate_to: str):
    return policy_create(
        name="escalating",
        workflow="booking",
        targets={"partner_ack": 3600},
        escalate_after=1800,
        escalate_to=escalate_to,
    )


def test_a_breach_left_open_moves_to_the_partners_next_contact(clock, open_session, partner):
    escalating_policy(EscalateTo.NEXT_CONTACT)
    PartnerContact.objects.create(
        partner=partner, contact=contact_get_or_create(phone=SECOND_CONTACT), name="Ravi"
    )
    session = open_session()
    follow(clock)
    clock.move_to(MONDAY + timedelta(hours=1, minutes=1))
    assert clocks_scan() == (1, 1, 0)
    clock.move_to(MONDAY + timedelta(hours=1, minutes=29))
    assert clocks_scan() == (0, 0, 0)  # not yet: 30 minutes after the breach

    clock.move_to(MONDAY + timedelta(hours=1, minutes=31))
    assert clocks_scan() == (0, 0, 1)
    assert clocks_scan() == (0, 0, 0)

    now_with = participant(session, Role.PARTNER)
    assert now_with.name == "Ravi"
    assert now_with.contact.phone == SECOND_CONTACT
    escalated = session.timeline.get(kind=EventKind.SLA_ESCALATED)
    assert escalated.detail["to"] == EscalateTo.NEXT_CONTACT
    assert [m.participant.name for m in reminders_to(session, Role.PARTNER)] == ["Ana", "Ravi"]
    ack = clocks(session)["partner_ack"]
    assert ack.escalated_at == MONDAY + timedelta(hours=1, minutes=30)
    assert ack.state == ClockState.BREACHED and ack.stopped_at is None


def test_with_no_other_contact_the_team_lead_is_told(
    clock, open_session, mailoutbox, django_user_model, run_tasks
):
    escalating_policy(EscalateTo.NEXT_CONTACT)
    desk = Team.objects.create(slug="desk", name="Desk")
    lead = django_user_model.objects.create_user("lead", email="lead@example.com")
    Agent.objects.create(user=lead, supervisor=True).teams.add(desk)
    session = open_session()
    RelaySession.objects.filter(pk=session.pk).update(team=desk)
    follow(clock)
    clock.move_to(MONDAY + timedelta(hours=2))

    run_tasks(clocks_scan)

    assert session.timeline.get(kind=EventKind.SLA_ESCALATED).detail["to"] == "team_lead"
    assert mailoutbox[-1].subject == (
        "[Switchboard] BK-1001: partner_ack is still past its target: escalated to you"
    )
    assert participant(session, Role.PARTNER).name == "Ana"


def test_a_clock_answered_before_its_escalation_is_not_escalated(clock, open_session, post_webhook):
    escalating_policy(EscalateTo.TEAM_LEAD)
    session = open_session()
    follow(clock)
    clock.move_to(MONDAY + timedelta(hours=1, minutes=5))
    clocks_scan()
    write(post_webhook, PARTNER, participant(session, Role.PARTNER).proxy_number, body="Here")
    follow(clock)
    clock.move_to(MONDAY + timedelta(hours=3))

    assert clocks_scan() == (0, 0, 0)
    assert not session.timeline.filter(kind=EventKind.SLA_ESCALATED).exists()


def test_another_partner_takes_its_policy_and_the_time_run_is_kept(clock, policy, open_session):
    factory = partner_with_contact(SECOND_CONTACT, code="loc-b", name="Harbour Desk")
    policy_create(
        name="harbour",
        workflow="booking",
        partner="loc-b",
        targets={"partner_ack": 7200, "confirmation": 1800},
    )
    session = open_session()
    follow(clock)
    clock.move_to(MONDAY + timedelta(minutes=20))

    booking_reroute(session=session, partner=factory)
    follow(clock)

    ack = clocks(session)["partner_ack"]
    assert ack.version.policy.name == "harbour"
    # 20 minutes (and the 10 s the event waits to settle) of its 2 hours are gone.
    assert ack.due_at == MONDAY + timedelta(hours=2)
    assert ack.warns_at == MONDAY + timedelta(minutes=96)
    rematched = [e for e in session.timeline.filter(kind=EventKind.SLA_REMATCHED)]
    assert {e.detail["clock"] for e in rematched} == {"partner_ack", "confirmation"}
    assert rematched[0].detail["elapsed_s"] == 1200
    assert (EventKind.SLA_REMATCHED, "partner_ack") in sla_kinds(session)


def test_a_team_policy_beats_the_workflows_and_a_partner_policy_beats_both(
    clock, policy, open_session
):
    desk = Team.objects.create(slug="desk", name="Desk")
    policy_create(name="desk", workflow="booking", team="desk", targets={"partner_ack": 600})
    policy_create(name="loc-a", workflow="booking", partner="loc-a", targets={"partner_ack": 900})
    session = open_session(team=desk)

    follow(clock)

    assert clocks(session)["partner_ack"].version.policy.name == "loc-a"


def test_a_routing_rule_chooses_the_policy(clock, policy, open_session):
    policy_create(name="vip", workflow="booking", targets={"partner_ack": 300})
    session = open_session()
    with transaction.atomic():
        timeline_record(EventKind.SESSION_ROUTED, session=session, sla_policy="vip")

    follow(clock)

    ack = clocks(session)["partner_ack"]
    assert ack.version.policy.name == "vip"
    assert ack.due_at == MONDAY + timedelta(minutes=5)


def test_a_rule_naming_no_policy_is_refused(policy):
    with pytest.raises(ActionError, match="no SLA policy 'gold'; policies: standard booking"):
        action_check({"kind": "set_sla_policy", "value": "gold"})
