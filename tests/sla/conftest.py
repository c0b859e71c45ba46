"""What the SLA tests share: a frozen Monday clock, the booking workflow's policy, and ways
to let the clocks read the timeline."""

from datetime import UTC, datetime

import pytest
import time_machine

from sla.engine import SETTLED_AFTER, clocks_follow_timeline
from sla.models import SlaClock
from sla.services import policy_create
from tests.relay.conftest import (  # noqa: F401 (fixtures the SLA tests share)
    api,
    open_session,
    partner,
    pool,
    post_webhook,
)

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


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
