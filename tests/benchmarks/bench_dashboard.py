"""Benchmark: the supervisor dashboard's reads over 100,000 sessions of the last 30 days on
PostgreSQL, on a throwaway test database filled with bulk SQL. The sessions are spread over
the four demo workflows, 20 partners (a tenth in triage) and five teams; each has a timeline
of about eleven events (messages both ways and their relayed copies, routing, the success
status for about 60 %, SLA clocks met and breached, slots, quotes, redactions, closing), with
the participants and messages the KPIs join to, and a few thousand running clocks.
Prints, for session_facts (every workflow, one workflow), kpis_computed per partner,
kpis_report (the API's answer), GET /dashboard/ and GET /dashboard/kpis.csv: the first run
and the median of the next ones, the time waiting on SQL against the rest, the queries, the
peak memory, and where the plan of session_facts' grouped query spends its time (whole with
--plans); asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_dashboard [--sessions 100000] [--running 3000]
        [--business-hours] [--plans]

Uses DATABASE_URL like the tests, which must name a PostgreSQL server.
"""

import argparse
import os
import re
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import time as clock_time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from relay.models import (
    Contact,
    MaskingPool,
    Message,
    Participant,
    ProxyNumber,
    RelaySession,
    TimelineEvent,
)
from routing.models import Agent, Partner, Team, Workflow
from sla.clocks import CLOCKS
from sla.kpis import group_key, kpis_computed, kpis_period, kpis_report, session_facts
from sla.models import (
    BusinessCalendar,
    OpeningHours,
    RoiSettings,
    SlaClock,
    SlaPolicy,
    SlaPolicyVersion,
)

ROUNDS = 5
WORKFLOWS = ("booking", "childcare-interview", "export-feedback", "bespoke-inquiry")
# A success undone: moved to one of these afterwards (a step back for export-feedback).
UNDONE_TO = ("cancelled", "declined", "acknowledged", "declined")
TEAMS = ("city-desk", "care-desk", "export-desk", "bespoke-desk", "airport-desk")
PARTNERS, AGENTS, NUMBERS = 20, 8, 10
GROUPED = re.compile(r'^SELECT "relay_timelineevent".* GROUP BY ', re.S)  # session_facts' own

# Random draws first, stored, so that each is one value however often it is read below.
DRAWN = (
    "wf opened partner pick assignee linked msg1 answered ack reply reply_at success success_at "
    "undo undo_at route reroute reroute_at slot slot_at no_show quote quote_at superseded sla "
    "owner redacted follow note note_at close close_at"
)
DRAW = (
    f"SELECT n AS s, {', '.join(f'random() AS r_{name}' for name in DRAWN.split(' '))} "
    "FROM generate_series(1, %(sessions)s) AS n"
)

# Each session's story as times (NULL: it did not happen); what lies after t0 has not yet.
SESSIONS = """
SELECT d.s, a.w, a.opened, a.partner_id, b.assignee_id, b.t_msg1, c.t_ack, e.t_slot,
    e.t_quote, f.t_success, d.r_linked < 0.85 AS linked,
    CASE WHEN a.w = 1 AND mod(d.s, 3) = 0 THEN (%(teams)s::bigint[])[5]
        ELSE (%(teams)s::bigint[])[a.w] END AS team_id,
    CASE WHEN a.partner_id IS NOT NULL AND d.r_route < 0.75
        THEN b.t_msg1 + interval '1 second' END AS t_routed,
    CASE WHEN a.partner_id IS NOT NULL AND d.r_reroute < 0.03
        THEN b.t_msg1 + d.r_reroute_at * interval '2 days' END AS t_reroute,
    CASE WHEN c.t_ack IS NOT NULL AND d.r_reply < 0.8
        THEN c.t_ack + interval '1 minute' + d.r_reply_at * interval '2 hours' END AS t_reply,
    CASE WHEN f.t_success IS NOT NULL AND d.r_undo < 0.05
        THEN f.t_success + d.r_undo_at * interval '1 day' END AS t_undo,
    CASE WHEN a.w IN (1, 2) AND f.t_success IS NOT NULL AND d.r_no_show < 0.05
        THEN f.t_success + interval '1 day' END AS t_no_show,
    CASE WHEN e.t_quote IS NOT NULL AND d.r_superseded < 0.15
        THEN e.t_quote + interval '1 day' END AS t_superseded,
    CASE WHEN d.r_sla < 0.7 THEN c.t_ack END AS t_met,
    CASE WHEN d.r_sla >= 0.7 AND d.r_sla < 0.9 THEN b.t_msg1 + interval '1 hour' END AS t_breach,
    CASE WHEN a.partner_id IS NULL OR d.r_owner >= 0.85 THEN 'team'
        WHEN d.r_owner < 0.6 THEN 'partner' ELSE 'agent' END AS owner,
    CASE WHEN a.partner_id IS NOT NULL AND c.t_ack IS NOT NULL AND d.r_redacted < 0.05
        THEN c.t_ack + interval '500 milliseconds' END AS t_redacted,
    CASE WHEN d.r_follow < 0.08 THEN b.t_msg1 + interval '2 hours' END AS t_follow,
    CASE WHEN b.assignee_id IS NOT NULL AND d.r_note < 0.6
        THEN b.t_msg1 + interval '5 minutes' + d.r_note_at * interval '2 hours' END AS t_note,
    CASE WHEN d.r_close < 0.55
        THEN greatest(b.t_msg1, c.t_ack, f.t_success, e.t_quote) + interval '1 hour'
            + d.r_close_at * interval '1 day' END AS t_closed
FROM bench_draw AS d
CROSS JOIN LATERAL (
    SELECT CASE WHEN d.r_wf < 0.4 THEN 1 WHEN d.r_wf < 0.6 THEN 2 WHEN d.r_wf < 0.8 THEN 3
            ELSE 4 END AS w,
        %(t0)s - d.r_opened * interval '30 days' AS opened,
        CASE WHEN d.r_partner < 0.9 THEN (%(partners)s::bigint[])[
            1 + floor(power(d.r_pick, 1.6) * cardinality(%(partners)s::bigint[]))::int] END
            AS partner_id
) AS a
CROSS JOIN LATERAL (
    SELECT a.opened + interval '10 seconds' + d.r_msg1 * interval '5 minutes' AS t_msg1,
        CASE WHEN a.partner_id IS NULL OR d.r_assignee < 0.4
            THEN (%(agents)s::bigint[])[1 + mod(d.s, cardinality(%(agents)s::bigint[]))] END
            AS assignee_id
) AS b
CROSS JOIN LATERAL (
    SELECT CASE WHEN d.r_answered < 0.92 THEN b.t_msg1 + CASE WHEN a.partner_id IS NULL
        THEN interval '2 minutes' + power(d.r_ack, 2) * interval '2 hours'
        ELSE interval '1 minute' + power(d.r_ack, 3) * interval '8 hours' END END AS t_ack
) AS c
CROSS JOIN LATERAL (
    SELECT CASE WHEN a.w = 2 AND c.t_ack IS NOT NULL AND d.r_slot < 0.7
            THEN c.t_ack + interval '5 minutes' + d.r_slot_at * interval '1 day' END AS t_slot,
        CASE WHEN a.w = 4 AND c.t_ack IS NOT NULL AND d.r_quote < 0.8
            THEN c.t_ack + interval '30 minutes' + d.r_quote_at * interval '4 hours' END
            AS t_quote
) AS e
CROSS JOIN LATERAL (
    SELECT CASE WHEN c.t_ack IS NULL THEN NULL
        WHEN a.w = 2 THEN CASE WHEN d.r_success < 0.85 THEN e.t_slot + interval '1 minute' END
        WHEN a.w = 4 THEN CASE WHEN d.r_success < 0.75
            THEN e.t_quote + interval '15 minutes' + d.r_success_at * interval '1 day' END
        WHEN d.r_success < 0.65
            THEN c.t_ack + interval '10 minutes' + power(d.r_success_at, 2) * interval '2 days'
        END AS t_success
) AS f
"""

# One row per event: (k, kind, actor, at, its message's number in the session and the role of
# that message's participant, detail). Message m of session s has id s * 8 + m.
STEPS = """
SELECT b.s, b.partner_id, b.assignee_id, e.*
FROM bench_session AS b
CROSS JOIN LATERAL (VALUES
    (1, 'session.opened', 'api', b.opened, NULL::int, NULL::text, '{}'::jsonb),
    (2, 'sla.started', 'system', b.opened, NULL, NULL, '{"clock": "confirmation"}'),
    (3, 'session.routed', 'system', b.t_routed, NULL, NULL, '{}'),
    (4, 'message.received', 'customer', b.t_msg1, 1, 'customer', '{"type": "text"}'),
    (5, 'message.queued', 'system', CASE WHEN b.partner_id IS NOT NULL
        THEN b.t_msg1 + interval '1 second' END, 2, 'partner', '{"origin": "relayed"}'),
    (6, 'message.received', 'partner', CASE WHEN b.partner_id IS NOT NULL THEN b.t_ack END,
        3, 'partner', '{"type": "text"}'),
    (7, 'message.redacted', 'partner', b.t_redacted, 3, 'partner',
        '{"leak": "phone", "count": 1}'),
    (8, 'message.queued', CASE WHEN b.partner_id IS NULL THEN 'agent' ELSE 'system' END,
        b.t_ack + interval '1 second', 4, 'customer', CASE WHEN b.partner_id IS NULL
        THEN '{"origin": "api"}' ELSE '{"origin": "relayed"}' END::jsonb),
    (9, 'message.delivered', 'system', b.t_ack + interval '3 seconds', 4, 'customer', '{}'),
    (10, 'message.received', 'customer', b.t_reply, 5, 'customer', '{"type": "text"}'),
    (11, 'message.queued', 'system', CASE WHEN b.partner_id IS NOT NULL
        THEN b.t_reply + interval '1 second' END, 6, 'partner', '{"origin": "relayed"}'),
    (12, 'booking.status_changed', CASE WHEN b.assignee_id IS NULL THEN 'partner'
        ELSE 'agent' END, b.t_success, NULL, NULL, jsonb_build_object(
        'from', (%(first)s::text[])[b.w], 'to', (%(success)s::text[])[b.w])),
    (13, 'booking.status_changed', 'agent', b.t_undo, NULL, NULL, jsonb_build_object(
        'from', (%(success)s::text[])[b.w], 'to', (%(undone)s::text[])[b.w])),
    (14, 'session.routed', 'agent', b.t_reroute, NULL, NULL, '{}'),
    (15, 'slot.confirmed', 'customer', b.t_slot, NULL, NULL, '{}'),
    (16, 'booking.no_show', 'partner', b.t_no_show, NULL, NULL, '{}'),
    (17, 'quote.received', 'partner', b.t_quote, NULL, NULL, '{}'),
    (18, 'quote.sent', 'agent', b.t_quote + interval '15 minutes', NULL, NULL, '{}'),
    (19, 'quote.superseded', 'agent', b.t_superseded, NULL, NULL, '{}'),
    (20, 'sla.met', 'system', b.t_met, NULL, NULL, '{"clock": "partner_ack"}'),
    (21, 'sla.breached', 'system', b.t_breach, NULL, NULL, jsonb_build_object(
        'clock', 'partner_ack', 'breached_by', b.owner, 'breached_by_key', CASE b.owner
        WHEN 'partner' THEN (%(partner_codes)s::text[])[
            array_position(%(partners)s::bigint[], b.partner_id)]
        WHEN 'agent' THEN (%(agent_names)s::text[])[1] ELSE (%(team_slugs)s::text[])[b.w] END)),
    (22, 'session.followed_up', 'agent', b.t_follow, NULL, NULL, '{}'),
    (23, 'note.added', 'agent', b.t_note, NULL, NULL, '{}'),
    (24, 'session.closed', 'agent', b.t_closed, NULL, NULL, '{}')
) AS e(k, kind, actor, at, msg, role, detail)
WHERE e.at <= %(t0)s
"""

# The clocks behind the period's SLA events, and `running` ones on the newest open sessions.
CLOCK_ROWS = """(
    SELECT st.s, 'partner_ack' AS clock, st.kind = 'sla.met' AS met, st.at,
        b.t_msg1 AS started, CASE WHEN b.t_closed <= %(t0)s THEN b.t_closed END AS closed,
        st.detail, (%(versions)s::bigint[])[b.w] AS version_id
    FROM bench_step AS st JOIN bench_session AS b USING (s)
    WHERE st.kind IN ('sla.met', 'sla.breached')
) AS row"""
RUNNING_ROWS = """(
    SELECT s, version_id, due, due - interval '12 minutes' AS warns FROM (
        SELECT b.s, (%(versions)s::bigint[])[b.w] AS version_id,
            %(t0)s + interval '5 minutes' + random() * interval '4 hours' AS due
        FROM bench_session AS b
        WHERE b.t_closed IS NULL OR b.t_closed > %(t0)s
        ORDER BY b.opened DESC LIMIT %(running)s
    ) AS newest
) AS row"""

SCRATCH = (("bench_draw", DRAW), ("bench_session", SESSIONS), ("bench_step", STEPS))

# The ids of a session's customer contact and participant follow the session's; a partner's
# contact is the partner's id after them. Messages' and participants' ids are given too.
CUSTOMER = "b.s"
PARTNER_CONTACT = "%(sessions)s + b.partner_id"
NUMBER = "(%(numbers)s::bigint[])[1 + mod(b.s, cardinality(%(numbers)s::bigint[]))]"
PARTNER_NUMBER = NUMBER.replace("b.s", "b.s / 7")
CLOSED = "b.t_closed <= %(t0)s"
LAST = (
    "greatest(CASE WHEN b.t_msg1 <= %(t0)s THEN b.t_msg1 END, "
    "CASE WHEN b.t_ack <= %(t0)s THEN b.t_ack END, "
    "CASE WHEN b.t_reply <= %(t0)s THEN b.t_reply END)"
)
TABLES = [
    (
        Contact,
        {"id": CUSTOMER, "phone_hash": "md5('customer-' || b.s)", "created_at": "b.opened"},
        "bench_session AS b",
    ),
    (
        Contact,
        {
            "id": "%(sessions)s + p.id",
            "phone_hash": "md5('partner-' || p.id)",
            "created_at": "%(t0)s - interval '90 days'",
        },
        "routing_partner AS p",
    ),
    (
        RelaySession,
        {
            "id": "b.s",
            "external_ref": "CASE WHEN b.linked THEN 'BK-' || lpad(b.s::text, 7, '0') "
            "ELSE 'IN-' || upper(lpad(to_hex(b.s), 6, '0')) END",
            "workflow": "(%(workflows)s::text[])[b.w]",
            "status": f"CASE WHEN {CLOSED} THEN 'closed' WHEN b.t_msg1 <= %(t0)s THEN 'active' "
            "ELSE 'open' END",
            "pool": "%(pool)s",
            "partner": "b.partner_id",
            "booking_status": "CASE WHEN b.t_undo <= %(t0)s THEN (%(undone)s::text[])[b.w] "
            "WHEN b.t_success <= %(t0)s THEN (%(success)s::text[])[b.w] "
            "ELSE (%(first)s::text[])[b.w] END",
            "team": "b.team_id",
            "assignee": "b.assignee_id",
            "ttl": "interval '7 days'",
            "expires_at": f"CASE WHEN {CLOSED} THEN b.t_closed "
            f"ELSE coalesce({LAST}, b.opened) + interval '7 days' END",
            "last_interaction_at": LAST,
            "created_at": "b.opened",
            "closed_at": f"CASE WHEN {CLOSED} THEN b.t_closed END",
        },
        "bench_session AS b",
    ),
    (
        Participant,
        {
            "id": "2 * b.s - 1",
            "session": "b.s",
            "role": "'customer'",
            "contact": CUSTOMER,
            "proxy_number": NUMBER,
            "thread_tag": "'#' || upper(to_hex(b.s))",
            "active": f"NOT coalesce({CLOSED}, false)",
        },
        "bench_session AS b",
    ),
    (
        Participant,
        {
            "id": "2 * b.s",
            "session": "b.s",
            "role": "'partner'",
            "contact": PARTNER_CONTACT,
            "proxy_number": PARTNER_NUMBER,
            "thread_tag": "'#' || upper(to_hex(b.s))",
            "multiplexed": "true",  # a partner's contact is in many sessions at once
            "active": f"NOT coalesce({CLOSED}, false)",
        },
        "bench_session AS b WHERE b.partner_id IS NOT NULL",
    ),
    (
        Message,
        {
            "id": "b.s * 8 + b.msg",
            "session": "b.s",
            "participant": "CASE b.role WHEN 'customer' THEN 2 * b.s - 1 ELSE 2 * b.s END",
            "direction": "CASE b.kind WHEN 'message.received' THEN 'in' ELSE 'out' END",
            "origin": "coalesce(b.detail ->> 'origin', 'participant')",
            "contact": f"CASE b.role WHEN 'customer' THEN {CUSTOMER} ELSE {PARTNER_CONTACT} END",
            "proxy_number": f"CASE b.role WHEN 'customer' THEN {NUMBER} ELSE {PARTNER_NUMBER} END",
            "type": "'text'",
            "body": "'A message of the bench'",
            "status": "CASE b.kind WHEN 'message.received' THEN 'relayed' ELSE 'delivered' END",
            "created_at": "b.at",
        },
        "bench_step AS b WHERE b.kind IN ('message.received', 'message.queued')",
    ),
    (
        TimelineEvent,
        {
            "session": "b.s",
            "message": "b.s * 8 + b.msg",
            "kind": "b.kind",
            "actor": "b.actor",
            "actor_contact": f"CASE b.actor WHEN 'customer' THEN {CUSTOMER} "
            f"WHEN 'partner' THEN {PARTNER_CONTACT} END",
            "actor_user": "CASE b.actor WHEN 'agent' THEN "
            "coalesce(b.assignee_id, (%(agents)s::bigint[])[1]) END",
            "detail": "b.detail",
            "created_at": "b.at",
        },
        "bench_step AS b ORDER BY b.at, b.s, b.k",  # ids in the order events happened
    ),
    (
        SlaClock,
        {
            "session": "s",
            "clock": "clock",
            "version": "version_id",
            "state": "CASE WHEN met THEN 'met' ELSE 'breached' END",
            "started_at": "started",
            "warns_at": "started + interval '48 minutes'",
            "due_at": "started + interval '1 hour'",
            "warned_at": "CASE WHEN NOT met THEN started + interval '48 minutes' END",
            "breached_at": "CASE WHEN NOT met THEN at END",
            "stopped_at": "CASE WHEN met THEN at ELSE closed END",
            "breached_by": "coalesce(detail ->> 'breached_by', '')",
            "breached_by_key": "coalesce(detail ->> 'breached_by_key', '')",
        },
        CLOCK_ROWS,
    ),
    (
        SlaClock,
        {
            "session": "s",
            "clock": "'next_response'",
            "version": "version_id",
            "state": "CASE WHEN warns <= %(t0)s THEN 'warned' ELSE 'running' END",
            "started_at": "due - interval '1 hour'",
            "warns_at": "warns",
            "due_at": "due",
            "warned_at": "CASE WHEN warns <= %(t0)s THEN warns END",
        },
        RUNNING_ROWS,
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--running", type=int, default=3000, help="running SLA clocks")
    parser.add_argument(
        "--business-hours",
        action="store_true",
        help="every SLA policy counts business time (Mon-Fri 9-18 Europe/London, GB holidays)",
    )
    parser.add_argument("--plans", action="store_true", help="print the grouped query's plan")
    options = parser.parse_args()
    if options.sessions < 1 or options.running < 0:
        parser.error("--sessions must be at least 1 and --running at least 0")
    if connection.vendor != "postgresql":
        sys.exit(
            f"bench_dashboard measures PostgreSQL, not {connection.vendor}: set DATABASE_URL, "
            "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
        )
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    # A database of its own: the minutes it takes must not clobber a test run's test_<name>.
    connection.settings_dict["TEST"]["NAME"] = f"{old_name}_bench_dashboard"
    # Not serialized: no test rolls back to it, and every model's rows need not be read.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        run(options.sessions, options.running, business_hours=options.business_hours)
        _grouped_plan(whole=options.plans)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(sessions: int, running: int, *, business_hours: bool) -> None:
    print(_server())
    started = time.perf_counter()
    boss = _load(sessions, running, business_hours=business_hours)
    print(
        f"loaded {sessions} sessions{' in business time' if business_hours else ''} in "
        f"{time.perf_counter() - started:.1f} s: {_counts()}; peak memory {_peak_mb():.0f} MB"
    )
    start, end = kpis_period(None, None, today=timezone.now().date())
    facts = session_facts(start=start, end=end)
    client = Client()
    client.force_login(boss)
    print(f"period {start} – {end}: {len(facts)} sessions; times in ms")
    measures = {
        "session_facts, every workflow": lambda: session_facts(start=start, end=end),
        "session_facts, booking": lambda: session_facts(start=start, end=end, workflow="booking"),
        "kpis_computed per partner": lambda: kpis_computed(facts, group_key("partner")),
        "kpis_report (the API, by workflow)": lambda: kpis_report(start=start, end=end),
        "GET /dashboard/": lambda: _get(client, "/dashboard/"),
        "GET /dashboard/?workflow=booking": lambda: _get(client, "/dashboard/?workflow=booking"),
        "GET /dashboard/kpis.csv": lambda: _get(client, "/dashboard/kpis.csv"),
    }
    for label, call in measures.items():
        _measure(label, call)
    for label in ("session_facts, every workflow", "GET /dashboard/"):
        print(f"{label}: Python heap at its peak {_heap_peak_mb(measures[label]):.0f} MB")


def _get(client: Client, url: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return f"{response.status_code}, {len(response.content)} bytes, {len(queries)} queries"


def _measure(label: str, call) -> None:
    """The first run apart (templates, lazy imports and the server's catalog caches cold; the
    data itself is in memory after loading), then ROUNDS more."""
    runs = [_run(call) for _ in range(ROUNDS + 1)]
    (first, first_sql, answered), rest = runs[0], runs[1:]
    timings = [elapsed for elapsed, _, _ in rest]
    median = statistics.median(timings)
    sql = statistics.median(statements.total for _, statements, _ in rest)
    names = rest[-1][1].seconds
    by_name = {
        name: statistics.median(s.seconds.get(name, 0) for _, s, _ in rest) for name in names
    }
    slowest = sorted(by_name.items(), key=lambda item: -item[1])[:3]
    shown = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in slowest)
    print(
        f"{label} ({answered}): first {first * 1000:.0f} "
        f"(SQL {first_sql.total * 1000:.0f}), median {median * 1000:.0f} "
        f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}) of {ROUNDS}"
    )
    print(
        f"    median SQL {sql * 1000:.0f} in {rest[-1][1].count.total()} statements ({shown}), "
        f"Python {(median - sql) * 1000:.0f}; peak memory {_peak_mb():.0f} MB"
    )


def _run(call) -> tuple[float, "Statements", str]:
    with _timed() as statements:
        started = time.perf_counter()
        answer = call()
        elapsed = time.perf_counter() - started
    return elapsed, statements, _described(answer)  # not the answer: its memory is let go


def _described(answer) -> str:
    if isinstance(answer, str):
        return answer
    if isinstance(answer, list):
        return f"{len(answer)} facts"
    return f"{len(answer.get('groups', answer))} groups"


class Statements:
    """Seconds waiting on each kind of statement (its table, grouped or not), by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: Counter[str] = Counter()

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def add(self, sql: str, seconds: float) -> None:
        table = re.search(r'\bFROM "(\w+)"', sql)
        name = f"{sql.split(None, 1)[0].upper()} {table[1] if table else ''}".strip()
        if " GROUP BY " in sql:
            name += " grouped"
        self.seconds[name] += seconds
        self.count[name] += 1


@contextmanager
def _timed():
    """Statements' time in execute: the server's and the transfer; reading rows is Python."""
    statements = Statements()

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.add(sql, time.perf_counter() - started)

    with connection.execute_wrapper(timed):
        yield statements


def _heap_peak_mb(call) -> float:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _load(sessions: int, running: int, *, business_hours: bool):
    """The sessions, their timelines and clocks, in bulk SQL; the superuser who looks."""
    t0 = timezone.now()
    workflows = {w.slug: w for w in Workflow.objects.filter(slug__in=WORKFLOWS)}
    if len(workflows) != len(WORKFLOWS):
        sys.exit(f"the demo workflows {', '.join(WORKFLOWS)} are missing: migrations changed?")
    calendar = _calendar() if business_hours else None
    partners = Partner.objects.bulk_create(
        Partner(code=f"partner-{n:02d}", name=f"Partner {n:02d}") for n in range(1, PARTNERS + 1)
    )
    teams = Team.objects.bulk_create(Team(slug=slug, name=slug.title()) for slug in TEAMS)
    agents = [
        get_user_model().objects.create_user(f"agent{n}", email=f"agent{n}@example.com")
        for n in range(1, AGENTS + 1)
    ]
    Agent.objects.bulk_create(Agent(user=user) for user in agents)
    pool = MaskingPool.objects.create(name="bench")
    numbers = ProxyNumber.objects.bulk_create(
        ProxyNumber(pool=pool, e164=f"+1555010{n:04d}", phone_number_id=f"bench-{n}")
        for n in range(NUMBERS)
    )
    versions = [_version(slug, calendar) for slug in WORKFLOWS]
    RoiSettings.objects.create(
        value_per_success=Decimal(120),
        baseline_success_rate=0.45,
        cost_of_error=Decimal(60),
        baseline_error_rate=0.1,
        cost_of_delay_per_day=Decimal(15),
        baseline_days_to_success=2,
        licences=5,
    )
    params = {
        "t0": t0,
        "sessions": sessions,
        "running": running,
        "pool": pool.pk,
        "partners": [p.pk for p in partners],
        "partner_codes": [p.code for p in partners],
        "teams": [t.pk for t in teams],
        "team_slugs": [t.slug for t in teams],
        "agents": [u.pk for u in agents],
        "agent_names": [u.username for u in agents],
        "numbers": [n.pk for n in numbers],
        "versions": [v.pk for v in versions],
        "first": [workflows[slug].first_status for slug in WORKFLOWS],
        "success": [workflows[slug].success_status for slug in WORKFLOWS],
        "undone": list(UNDONE_TO),
        "workflows": list(WORKFLOWS),
    }
    _bulk(params)
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "bench")


def _calendar() -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(
        name="bench", time_zone="Europe/London", country="GB", subdivision="ENG"
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=day, opens=clock_time(9), closes=clock_time(18))
        for day in range(5)
    )
    return calendar


def _version(workflow: str, calendar: BusinessCalendar | None) -> SlaPolicyVersion:
    policy = SlaPolicy.objects.create(
        name=f"bench {workflow}", workflow=workflow, calendar=calendar
    )
    return SlaPolicyVersion.objects.create(
        policy=policy, number=1, targets=dict.fromkeys(CLOCKS, 3600), escalate_after=7200
    )


def _bulk(params: dict) -> None:
    """Every big table, from scratch tables of each session's story and of its events."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")  # the same sessions every run
        for name, rows in (
            ("bench_draw", DRAW),
            ("bench_session", SESSIONS),
            ("bench_step", STEPS),
        ):
            cursor.execute(f"CREATE TEMPORARY TABLE {name} AS {rows}", params)
        for model, values, rows in TABLES:
            sql, defaults = _insert(model, values, rows)
            cursor.execute(sql, params | defaults)
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Contact, RelaySession, Participant, Message]
        ):
            cursor.execute(sql)  # their ids were given: the next ones follow them
        cursor.execute("DROP TABLE bench_draw, bench_session, bench_step")
        cursor.execute(
            "ANALYZE relay_contact, relay_relaysession, relay_participant, relay_message, "
            "relay_timelineevent, sla_slaclock"
        )


def _insert(model: type[Model], values: dict[str, str], rows: str) -> tuple[str, dict]:
    """INSERT ... SELECT of `model` from `rows`, with `values` (SQL by field name, the primary
    key too when given) and each other field's default, so that a field added with a default
    needs no change here (as bench_sla's)."""
    columns, expressions, defaults = [], [], {}
    for field in model._meta.concrete_fields:
        if field.name not in values and (field.primary_key or field.null):
            continue
        if field.name in values:
            expressions.append(values[field.name])
        elif (default := field.get_default()) is not None:
            defaults[f"default_{field.column}"] = field.get_db_prep_save(default, connection)
            expressions.append(f"%(default_{field.column})s")
        else:
            raise ValueError(f"{model.__name__}.{field.name} has no default: give it a value")
        columns.append(connection.ops.quote_name(field.column))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {rows}"
    )
    return sql, defaults


def _grouped_plan(*, whole: bool) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of session_facts' grouped query over every workflow: the
    plan nodes that take the time (their own, summed over parallel workers)."""
    caught = []

    def catch(execute, sql, params, many, context):
        if GROUPED.match(sql) and not caught:
            caught.append((sql, params))
        return execute(sql, params, many, context)

    start, end = kpis_period(None, None, today=timezone.now().date())
    with connection.execute_wrapper(catch):
        session_facts(start=start, end=end)
    sql, params = caught[0]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
        if whole:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            text = [line for (line,) in cursor.fetchall()]
    nodes: list[tuple[float, str]] = []
    _own_times(plan["Plan"], nodes)
    jit = plan.get("JIT", {}).get("Timing", {}).get("Total", 0)
    print(
        f"session_facts' grouped query, EXPLAIN ANALYZE: planning {plan['Planning Time']:.0f} ms,"
        f" execution {plan['Execution Time']:.0f} ms (JIT {jit:.0f} ms of it); its nodes' own time:"
    )
    for own, line in sorted(nodes, reverse=True)[:6]:
        print(f"    {own:8.0f} ms  {line}")
    if whole:
        print("\n".join(f"      {line}" for line in text))


def _own_times(node: dict, nodes: list[tuple[float, str]]) -> float:
    """The node's time, all its loops; appends its own (less its children's) with a summary."""
    total = node["Actual Total Time"] * node["Actual Loops"]
    children = sum(_own_times(child, nodes) for child in node.get("Plans", []))
    names = ("Node Type", "Strategy", "Relation Name", "Index Name")
    what = " ".join(str(node[key]) for key in names if key in node)
    rows = node["Actual Rows"] * node["Actual Loops"]
    extra = [f"{key} {node[key]}" for key in ("Sort Method", "Hash Batches") if key in node]
    for key in ("Temp Written Blocks", "Disk Usage"):
        if node.get(key):
            extra.append(f"{key} {node[key]}")
    nodes.append((max(total - children, 0.0), f"{what}: {rows:.0f} rows {' '.join(extra)}"))
    return total


def _counts() -> str:
    tables = ("relay_relaysession", "relay_timelineevent", "relay_message", "relay_participant")
    with connection.cursor() as cursor:
        found = []
        for table in (*tables, "sla_slaclock"):
            cursor.execute(
                f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}"
            )
            count, size = cursor.fetchone()
            found.append(f"{count} {table.split('_', 1)[1]} ({size})")
        cursor.execute(
            "SELECT count(*) FROM sla_slaclock WHERE stopped_at IS NULL AND breached_at IS NULL"
        )
        found.append(f"{cursor.fetchone()[0]} clocks running")
    return ", ".join(found)


def _server() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT split_part(version(), ' ', 2), current_setting('work_mem'), "
            "current_setting('shared_buffers'), current_setting('jit'), "
            "current_setting('max_parallel_workers_per_gather')"
        )
        version, work_mem, buffers, jit, workers = cursor.fetchone()
    return (
        f"PostgreSQL {version}: work_mem {work_mem}, shared_buffers {buffers}, jit {jit}, "
        f"{workers} parallel workers per gather; {os.cpu_count()} CPUs"
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


if __name__ == "__main__":
    main()
