"""KPIs against fixtures computed by hand: messages written through the webhook, statuses
moved by the services, and (for the events of other workflows) the timeline itself; then
the figures through the API, as JSON and CSV."""

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import transaction

from relay.choices import ActorKind, EventKind
from relay.models import RelaySession
from relay.timeline import SYSTEM, Actor, timeline_record
from routing.models import Team
from routing.services.bookings import booking_status_set
from sla.kpis import KPIS, group_key, kpis_computed, session_facts
from sla.models import BusinessCalendar, OpeningHours
from sla.services import policy_create
from tests.sla.conftest import MONDAY, at

DAY = MONDAY.date()


def figures(workflow: str = "booking", group_by: str = "workflow") -> dict:
    facts = session_facts(start=DAY, end=DAY + timedelta(days=7), workflow=workflow)
    return kpis_computed(facts, group_key(group_by))


def test_booking_kpis_as_computed_by_hand(three_bookings):
    kpis = figures()["booking"]

    assert kpis["time_to_confirmation"] == {"p50_s": 4200.0, "p90_s": 5640.0, "n": 2}
    assert kpis["time_to_first_response"] == {"p50_s": 2250.0, "p90_s": 3330.0, "n": 2}
    assert kpis["time_to_acknowledge"] == {"p50_s": 2700.0, "p90_s": 3660.0, "n": 2}
    assert kpis["resolution_cycle_time"] == {"p50_s": 7200.0, "p90_s": 7200.0, "n": 1}
    assert kpis["first_contact_resolution"] == {"value": 0.5, "n": 2}  # B needed a reminder
    assert kpis["coordination_error_rate"] == {"value": 0.5, "n": 2}  # B was cancelled
    assert kpis["success_rate"] == {"value": 0.6667, "n": 3}
    assert kpis["leakage_attempts"] == {"value": 1, "n": 3}
    assert kpis["quote_turnaround"] == {"p50_s": None, "p90_s": None, "n": 0}


def test_grouped_by_team_each_group_has_its_own_figures(three_bookings):
    groups = figures(group_by="team")

    assert set(groups) == {"desk", None}
    assert groups["desk"]["time_to_confirmation"] == {"p50_s": 2400.0, "p90_s": 2400.0, "n": 1}
    assert groups[None]["success_rate"] == {"value": 0.5, "n": 2}


def test_durations_count_business_time_where_the_policy_does(db, open_session):
    office = BusinessCalendar.objects.create(name="office", time_zone="UTC")
    for weekday in range(5):
        OpeningHours.objects.create(
            calendar=office, weekday=weekday, opens=time(9), closes=time(17)
        )
    policy_create(name="office hours", workflow="booking", targets={"confirmation": 3600})
    policy_create(
        name="desk hours",
        workflow="booking",
        team="desk",
        targets={"confirmation": 3600},
        calendar=office,
    )
    desk = Team.objects.create(slug="desk", name="Desk")
    friday = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
    with time_machine.travel(friday, tick=False) as clock:
        counted = open_session("BK-10", customer="+14155550010", team=desk)
        wall = open_session("BK-11", customer="+14155550011")
        clock.move_to(datetime(2026, 12, 7, 9, 30, tzinfo=UTC))  # Monday
        for session in (counted, wall):
            RelaySession.objects.filter(pk=session.pk).update(booking_status="requested")
            booking_status_set(session=session, to="confirmed")

    facts = session_facts(start=friday.date(), end=friday.date() + timedelta(days=3))
    groups = kpis_computed(facts, group_key("team"))

    assert groups["desk"]["time_to_confirmation"]["p50_s"] == 3600.0  # 30 min + 30 min
    assert groups[None]["time_to_confirmation"]["p50_s"] == 65 * 3600.0


def record(session, kind, minutes, clock, actor=SYSTEM, **detail) -> None:
    at(clock, minutes)
    with transaction.atomic():
        timeline_record(kind, session=session, actor=actor, **detail)


CUSTOMER_WROTE = Actor(ActorKind.CUSTOMER)
PARTNER_WROTE = Actor(ActorKind.PARTNER)
AGENT_DID = Actor(ActorKind.AGENT)


def test_interview_quote_and_audit_kpis_as_computed_by_hand(clock, open_session):
    one = open_session("M-1", customer="+14155550021", workflow="childcare-interview")
    two = open_session("M-2", customer="+14155550022", workflow="childcare-interview")
    open_session("M-3", customer="+14155550023", workflow="childcare-interview")
    for minutes in (1, 2, 3):
        record(one, EventKind.MESSAGE_RECEIVED, minutes, clock, actor=CUSTOMER_WROTE)
    record(one, EventKind.SLOT_CONFIRMED, 4, clock)
    record(one, EventKind.MESSAGE_RECEIVED, 5, clock, actor=PARTNER_WROTE)  # after: not counted
    record(two, EventKind.MESSAGE_RECEIVED, 6, clock, actor=PARTNER_WROTE)
    record(two, EventKind.SLOT_CONFIRMED, 7, clock)
    record(two, EventKind.BOOKING_NO_SHOW, 60, clock)
    record(one, EventKind.SLA_MET, 61, clock, clock_name="first_response")
    record(two, EventKind.SLA_BREACHED, 62, clock, breached_by="partner", breached_by_key="loc-a")
    record(two, EventKind.SLA_BREACHED, 63, clock, breached_by="agent", breached_by_key="asha")
    record(one, EventKind.SLA_BREACHED, 63, clock, breached_by="team", breached_by_key="desk")
    # An agent's actions on one from 64 to 94 minutes (30 minutes); a single one on two (0).
    record(one, EventKind.NOTE_ADDED, 64, clock, actor=AGENT_DID)
    record(one, EventKind.NOTE_ADDED, 70, clock, actor=AGENT_DID)
    record(two, EventKind.NOTE_ADDED, 75, clock, actor=AGENT_DID)
    record(one, EventKind.NOTE_ADDED, 94, clock, actor=AGENT_DID)

    kpis = figures("childcare-interview")["childcare-interview"]

    assert kpis["scheduling_conversion"] == {"value": 0.6667, "n": 3}
    assert kpis["no_show_rate"] == {"value": 0.5, "n": 2}
    assert kpis["messages_to_slot"] == {"p50": 2.0, "p90": 2.8, "n": 2}  # 3 and 1
    assert kpis["sla_compliance"] == {"value": 0.25, "n": 2}  # 1 met of 4 ended or run out
    assert kpis["sla_breaches"] == {"value": 3, "n": 3}
    by = [kpis[f"breaches_by_{owner}"]["value"] for owner in ("partner", "agent", "team")]
    assert by == [1, 1, 1]
    assert kpis["agent_handling_time"] == {"p50_s": 900.0, "p90_s": 1620.0, "n": 2}
    assert kpis["audit_score"] == {"value": 1.0, "n": 2}  # both references were given

    quoted = open_session("J-1", customer="+14155550031", workflow="bespoke-inquiry")
    silent = open_session("IN-ABCDEF", customer="+14155550032", workflow="bespoke-inquiry")
    record(quoted, EventKind.QUOTE_RECEIVED, 100, clock)
    record(quoted, EventKind.QUOTE_SENT, 130, clock)
    record(silent, EventKind.MESSAGE_RECEIVED, 131, clock, actor=CUSTOMER_WROTE)

    kpis = figures("bespoke-inquiry")["bespoke-inquiry"]

    # Opened at 94 minutes, quoted to the customer at 130.
    assert kpis["quote_turnaround"] == {"p50_s": 36 * 60.0, "p90_s": 36 * 60.0, "n": 1}
    assert kpis["acceptance_rate"] == {"value": 0.5, "n": 2}
    assert kpis["audit_score"] == {"value": 0.0, "n": 1}  # a made-up reference: not linked
    assert silent.external_ref.startswith("IN-")


@pytest.mark.parametrize("group_by", ["partner", "team", "agent", "workflow"])
def test_the_api_answers_every_group_in_the_contracts_shape(api, three_bookings, group_by):
    answer = api.get(
        "/api/v1/kpis/",
        {"workflow": "booking", "group_by": group_by, "from": str(DAY), "to": str(DAY)},
    )

    assert answer.status_code == 200
    body = answer.json()
    assert (body["from"], body["to"]) == (str(DAY), str(DAY))
    keys = {group["key"] for group in body["groups"]}
    assert (
        keys
        == {
            "partner": {"loc-a", "loc-b"},
            "team": {"desk", None},
            "agent": {None},
            "workflow": {"booking"},
        }[group_by]
    )
    assert all("time_to_confirmation" in group["kpis"] for group in body["groups"])


def test_the_api_gives_the_same_figures_as_csv(api, three_bookings):
    answer = api.get("/api/v1/kpis/", {"workflow": "booking", "format": "csv"})

    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    by_kpi = {row["kpi"]: row for row in rows}
    assert by_kpi["time_to_confirmation"] == {
        "group": "booking",
        "kpi": "time_to_confirmation",
        "p50_s": "4200.0",
        "p90_s": "5640.0",
        "value": "",
        "n": "2",
    }
    assert by_kpi["success_rate"]["value"] == "0.6667"


def test_the_period_is_the_last_30_days_when_absent(api, clock):
    body = api.get("/api/v1/kpis/").json()

    assert (body["from"], body["to"]) == (str(DAY - timedelta(days=30)), str(DAY))
    assert body["groups"] == []


@pytest.mark.parametrize(
    "query, field, problem",
    [
        ({"group_by": "city"}, "group_by", "not a valid choice"),
        ({"from": "yesterday"}, "from", "Date has wrong format"),
        ({"from": "2026-12-09", "to": "2026-12-01"}, "from", "on or before"),
        ({"workflow": "nothing"}, "workflow", "does not exist"),
    ],
)
def test_a_bad_query_is_400_with_field_errors(api, query, field, problem):
    answer = api.get("/api/v1/kpis/", query)

    assert answer.status_code == 400 and problem in str(answer.json()[field])


def test_the_readme_defines_every_kpi_as_the_code_does():
    readme = (settings.BASE_DIR / "README.md").read_text()

    for kpi in KPIS:
        assert f"| `{kpi.name}` | {kpi.kind} |" in readme and kpi.definition in readme, kpi.name
