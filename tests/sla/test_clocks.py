"""SLA clocks follow the session timeline: started and stopped by its events, due in business
time, warned and breached once each, in order, and shown on the session's answer."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection, connections

from relay.choices import EventKind
from relay.models import RelaySession, TimelineEvent
from relay.services.sessions import session_close
from routing.models import Agent, Team, Workflow
from routing.services.bookings import booking_status_set
from sla.engine import clocks_scan
from sla.models import BusinessCalendar, ClockState, OpeningHours, SlaClock
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write
from tests.sla.conftest import MONDAY, clocks, follow, sla_kinds


def test_opening_starts_the_clocks_with_targets(clock, policy, open_session):
    session = open_session()

    follow(clock)

    running = clocks(session)
    assert set(running) == {"partner_ack", "confirmation"}  # first_response: nobody wrote
    assert running["partner_ack"].due_at == MONDAY + timedelta(hours=1)
    assert running["partner_ack"].warns_at == MONDAY + timedelta(minutes=48)
    assert running["confirmation"].due_at == MONDAY + timedelta(minutes=30)


def test_answers_stop_the_clocks_they_answer(clock, policy, open_session, post_webhook):
    session = open_session()
    follow(clock)

    write(post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body="Hi")
    follow(clock)
    assert clocks(session)["first_response"].state == ClockState.RUNNING

    write(post_webhook, PARTNER, participant(session, "partner").proxy_number, body="Hello!")
    follow(clock)

    running = clocks(session)
    assert running["partner_ack"].state == ClockState.MET
    assert running["first_response"].state == ClockState.MET  # the reply reached the customer
    assert running["confirmation"].state == ClockState.RUNNING
    assert (EventKind.SLA_MET, "partner_ack") in sla_kinds(session)


def test_each_warning_and_breach_once_and_in_order(clock, policy, open_session):
    session = open_session()
    follow(clock)

    clock.move_to(MONDAY + timedelta(minutes=25))  # confirmation warns at 24 minutes
    assert clocks_scan() == (1, 0, 0)
    assert clocks_scan() == (0, 0, 0)

    clock.move_to(MONDAY + timedelta(hours=2))  # partner_ack crossed both while nobody looked
    assert clocks_scan() == (1, 2, 0)
    assert clocks_scan() == (0, 0, 0)

    kinds = sla_kinds(session)
    assert kinds.index((EventKind.SLA_WARNING, "partner_ack")) < kinds.index(
        (EventKind.SLA_BREACHED, "partner_ack")
    )
    ack = clocks(session)["partner_ack"]
    assert (ack.state, ack.breached_at) == (ClockState.BREACHED, MONDAY + timedelta(hours=1))


def test_a_breached_clock_stays_breached_when_it_stops(clock, policy, open_session, post_webhook):
    session = open_session()
    follow(clock)
    clock.move_to(MONDAY + timedelta(hours=2))
    clocks_scan()

    write(post_webhook, PARTNER, participant(session, "partner").proxy_number, body="Sorry!")
    follow(clock)

    ack = clocks(session)["partner_ack"]
    assert ack.state == ClockState.BREACHED and ack.stopped_at is not None


def test_business_time_a_friday_evening_request_is_due_on_monday(db, policy, open_session):
    office = BusinessCalendar.objects.create(name="office", time_zone="UTC")
    for day in range(5):
        OpeningHours.objects.create(calendar=office, weekday=day, opens=time(9), closes=time(17))
    policy.calendar = office
    policy.save()

    with time_machine.travel(datetime(2026, 12, 4, 16, 30, tzinfo=UTC), tick=False) as clock:
        session = open_session()
        follow(clock)

    # Half an hour left on Friday, the other half on Monday morning.
    assert clocks(session)["partner_ack"].due_at == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def test_closing_stops_every_clock_and_nothing_warns_after(clock, policy, open_session):
    session = open_session()
    follow(clock)

    session_close(session=session, reason="cancelled")
    follow(clock)
    clock.move_to(MONDAY + timedelta(hours=3))

    assert clocks_scan() == (0, 0, 0)
    assert all(c.stopped_at for c in clocks(session).values())


def test_a_workflow_without_a_policy_runs_no_clocks(clock, policy, open_session):
    session = open_session()
    RelaySession.objects.filter(pk=session.pk).update(workflow="export-feedback")

    follow(clock)

    assert clocks(session) == {}


def test_the_sessions_answer_shows_its_clocks_as_of_the_answer(clock, api, policy, open_session):
    session = open_session()
    follow(clock)
    clock.move_to(MONDAY + timedelta(minutes=40))  # past confirmation's due time, not scanned

    shown = {c["clock"]: c for c in api.get(f"/api/v1/sessions/{session.pk}/").json()["sla"]}

    assert shown["confirmation"]["state"] == "breached"
    assert shown["confirmation"]["breached_at"] == "2026-12-07T10:30:00Z"
    assert shown["partner_ack"]["state"] == "running"
    assert shown["partner_ack"]["due_at"] == "2026-12-07T11:00:00Z"


def test_an_event_is_applied_once_whoever_reads_it(clock, policy, open_session):
    session = open_session()

    follow(clock)
    follow(clock)

    assert SlaClock.objects.filter(session=session).count() == 2
    assert [k for k in sla_kinds(session) if k[0] == EventKind.SLA_STARTED] == [
        (EventKind.SLA_STARTED, "confirmation"),
        (EventKind.SLA_STARTED, "partner_ack"),
    ]


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_record_each_crossing_once(policy, open_session):
    """Two workers scan the same due clocks at the same moment: each warning and breach is
    recorded once between them (PostgreSQL's row locks; SQLite has one writer anyway)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent scans need a database with row locks")
    sessions = [open_session(f"BK-{n}", customer=f"+1415555030{n}") for n in range(6)]
    past = datetime.now(UTC) - timedelta(hours=1)
    for session in sessions:
        SlaClock.objects.create(
            session=session,
            clock="partner_ack",
            version=policy.current,
            started_at=past,
            warns_at=past,
            due_at=past,
        )
    results, start = [], threading.Barrier(2)

    def scan():
        start.wait()
        try:
            results.append(clocks_scan())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(warned for warned, _, _ in results) == 6
    assert sum(breached for _, breached, _ in results) == 6
    assert TimelineEvent.objects.filter(kind=EventKind.SLA_WARNING).count() == 6
    assert TimelineEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 6


def test_supervisors_are_mailed_once_per_warning_and_breach(
    clock, policy, open_session, mailoutbox, django_user_model, run_tasks
):
    desk = Team.objects.create(slug="desk", name="Desk")
    boss = django_user_model.objects.create_user("boss", email="boss@example.com")
    Agent.objects.create(user=boss, supervisor=True).teams.add(desk)
    other = django_user_model.objects.create_user("other", email="other@example.com")
    Agent.objects.create(user=other, supervisor=True)  # of another team
    session = open_session()
    RelaySession.objects.filter(pk=session.pk).update(team=desk)
    follow(clock)
    clock.move_to(MONDAY + timedelta(minutes=50))  # confirmation crossed both, partner_ack warns

    run_tasks(clocks_scan)
    run_tasks(clocks_scan)

    subjects = [m.subject for m in mailoutbox]
    assert subjects == [
        "[Switchboard] BK-1001: confirmation is close to its target",
        "[Switchboard] BK-1001: partner_ack is close to its target",
        "[Switchboard] BK-1001: confirmation ran past its target",
    ]
    assert all(m.to == ["boss@example.com"] for m in mailoutbox)
    assert "BK-1001" in mailoutbox[0].body and PARTNER.lstrip("+") not in mailoutbox[0].body


def test_a_clock_pauses_while_the_booking_waits_on_the_customer(
    clock, policy, open_session, post_webhook
):
    Workflow.objects.filter(slug="booking").update(waiting_statuses=["confirmed"])
    session = open_session()
    RelaySession.objects.filter(pk=session.pk).update(booking_status="requested")
    follow(clock)
    clock.move_to(MONDAY + timedelta(minutes=10))
    booking_status_set(session=session, to="confirmed")  # now the member must answer
    follow(clock)

    ack = clocks(session)["partner_ack"]
    assert (ack.state, ack.due_at, ack.left_to_due) == (ClockState.PAUSED, None, 50 * 60)
    clock.move_to(MONDAY + timedelta(hours=5))
    assert clocks_scan() == (0, 0, 0)  # paused: nothing is late

    write(post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body="OK!")
    resumed_at = datetime.now(UTC)
    follow(clock)

    ack = clocks(session)["partner_ack"]
    assert ack.state == ClockState.RUNNING
    assert ack.due_at == resumed_at + timedelta(minutes=50)
    assert ack.warns_at == resumed_at + timedelta(minutes=38)
    kinds = sla_kinds(session)
    assert (EventKind.SLA_PAUSED, "partner_ack") in kinds
    assert (EventKind.SLA_RESUMED, "partner_ack") in kinds
