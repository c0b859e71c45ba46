"""Benchmark: the agent inbox's list (and a thread) over 100,000 sessions on PostgreSQL, on a
throwaway test database filled as bench_dashboard fills it (the four demo workflows, 20
partners, five teams, about eleven timeline events per session, running SLA clocks). Prints,
for GET /inbox/ as a supervisor (every team) and as an agent of one team, with each filter
and sort: the first run and the median of the next ones, the time waiting on SQL against
the rest, and the number of queries; then a thread page and its live poll, with and without
news. Asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_inbox [--sessions 100000] [--running 3000]

Uses DATABASE_URL like the tests, which must name a PostgreSQL server.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment

from relay.inbox.thread import thread_version
from relay.models import RelaySession
from routing.models import Agent, Team
from tests.benchmarks import bench_dashboard as filled

LISTS = [
    ("open sessions, last activity first", ""),
    ("SLA due first", "?sort=sla"),
    ("SLA at risk", "?attention=at_risk"),
    ("SLA breached, due first", "?attention=breached&sort=sla"),
    ("waiting in mediation", "?attention=waiting"),
    ("in triage", "?attention=triage"),
    ("unassigned, one workflow", "?who=unassigned&workflow=booking"),
    ("one partner, ended too", "?partner=partner-03&state=all"),
    ("search a booking reference", "?q=BK-00012"),
    ("search a name", "?q=Sam"),
    ("search message text", "?q=bench"),
    ("page 200", "?page=200"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--running", type=int, default=3000, help="running SLA clocks")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit(
            f"bench_inbox measures PostgreSQL, not {connection.vendor}: set DATABASE_URL, "
            "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
        )
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"{old_name}_bench_inbox"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        run(options.sessions, options.running)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(sessions: int, running: int) -> None:
    print(filled._server())
    started = time.perf_counter()
    boss = filled._load(sessions, running, business_hours=False)
    agent = Agent.objects.select_related("user").order_by("pk").first()
    agent.teams.add(Team.objects.get(slug="city-desk"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"loaded {sessions} sessions in {time.perf_counter() - started:.1f} s: {filled._counts()}"
    )
    print("times in ms")
    for who, user in (("supervisor", boss), (f"agent of one team ({agent})", agent.user)):
        client = Client()
        client.force_login(user)
        for label, query in LISTS:
            filled._measure(
                f"{who}: {label}", lambda c=client, q=query: filled._get(c, f"/inbox/{q}")
            )
    client = Client()
    client.force_login(boss)
    session = RelaySession.objects.filter(status="active").order_by("-last_interaction_at").first()
    thread = f"/inbox/sessions/{session.pk}/"
    filled._measure("thread page", lambda: filled._get(client, thread))
    after, held = thread_version(session)
    quiet = f"{thread}live/?after={after}&held={held}"
    filled._measure("live poll, nothing new", lambda: filled._get(client, quiet))
    filled._measure("live poll, with news", lambda: filled._get(client, f"{thread}live/?after=0"))


if __name__ == "__main__":
    main()
