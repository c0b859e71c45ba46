"""What the SLA tests share: a frozen Monday clock, the booking workflow's policy, and ways
to let the clocks read the timeline."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from relay.models import RelaySession
from relay.services.followups import follow_up
from relay.services.sessions import session_close
from relay.timeline import SYSTEM
from routing.models import Team
from routing.services.bookings import booking_status_set
from sla.engine import SETTLED_AFTER, clocks_follow_timeline
from sla.models import SlaClock
from sla.services import policy_create
from tests.relay.conftest import (  # noqa: F401 (fixtures the SLA tests share)
    PARTNER,
    api,
    open_session,
    participant,
    partner,
    pool,
    post_webhook,
    write,
)
from tests.relay.factories import partner_with_contact

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
HARBOUR = "+447700900777"


@pytest.fixture
def clock(db):
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(db):
    return policy_create(
        name="standard booking",
        workflow="booking",
        targets={"partner_ack": 3600, "confirmation": 1800, "first_response": 600},
        warn_at=0.8,
    )


def follow(clock, by=SETTLED_AFTER):
    """Let the events settle, then let the clocks read them."""
    clock.shift(by)
    while clocks_follow_timeline():
        pass


def clocks(session) -> dict[str, SlaClock]:
    return {c.clock: c for c in SlaClock.objects.filter(session=session)}


def sla_kinds(session) -> list[tuple[str, str]]:
    events = session.timeline.filter(kind__startswith="sla.").order_by("id")
    return [(e.kind, e.detail["clock"]) for e in events]


def at(clock, minutes: float) -> None:
    clock.move_to(MONDAY + timedelta(minutes=minutes))


@pytest.fixture
def three_bookings(clock, open_session, post_webhook):  # noqa: F811 (fixtures, imported)
    """A confirmed at 40 min, answered at once; B confirmed at 100 min after a reminder, then
    cancelled; C never answered, its customer tried to pass on a number."""
    desk = Team.objects.create(slug="desk", name="Desk")
    a = open_session("BK-1", customer="+14155550001", team=desk)
    harbour = partner_with_contact(HARBOUR, code="loc-b", name="Harbour")
    b = open_session("BK-2", customer="+14155550002", partner=harbour)
    c = open_session("BK-3", customer="+14155550003", partner=harbour)
    for session in (a, b, c):
        RelaySession.objects.filter(pk=session.pk).update(booking_status="requested")
    number = {s: participant(s, "customer").proxy_number for s in (a, b, c)}
    at(clock, 1)
    write(post_webhook, "+14155550003", number[c], body="Call me on +44 7700 900999")
    at(clock, 5)
    write(post_webhook, "+14155550002", number[b], body="Is the room free?")
    at(clock, 10)
    write(post_webhook, "+14155550001", number[a], body="Is the room free?")
    at(clock, 25)
    write(post_webhook, PARTNER, participant(a, "partner").proxy_number, body="Yes")
    at(clock, 40)
    booking_status_set(session=a, to="confirmed")
    at(clock, 50)
    with transaction.atomic():
        follow_up(session=b, actor=SYSTEM)
    at(clock, 65)
    write(post_webhook, HARBOUR, participant(b, "partner").proxy_number, body="Yes")
    at(clock, 100)
    booking_status_set(session=b, to="confirmed")
    at(clock, 120)
    session_close(session=a, reason="done")
    at(clock, 180)
    booking_status_set(session=b, to="cancelled")
    return a, b, c
