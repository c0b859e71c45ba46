"""Benchmark: one SLA scan over 1,000,000 running clocks on PostgreSQL, on a throwaway test
database filled with bulk SQL. Of the clocks, `--crossing` have crossed their warning time
(half of them their due time too) and `--warned-share` warned already (running on to their
due time); the rest lie in the future.
Prints the time of the scan that records the crossings, of the scans after it that find
nothing (the cost of the every-minute schedule), the process's peak memory around them and
what the plans of the scan's selects read (whole with --plans); asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_sla [--clocks 1000000] [--crossing 1000]
        [--per-session 6] [--warned-share 0.1] [--plans]

Uses DATABASE_URL like the tests, which must name a PostgreSQL server.
"""

import argparse
import dataclasses
import os
import re
import resource
import statistics
import sys
import time
from collections import Counter
from contextlib import contextmanager

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.db.models import Model
from django.test.utils import setup_test_environment
from django.utils import timezone

from relay.models import MaskingPool, RelaySession
from routing.models import Agent
from routing.services.partners import partner_create
from sla.clocks import CLOCKS
from sla.engine import clocks_scan
from sla.models import ClockState, SlaClock, SlaPolicy, SlaPolicyVersion

ROUNDS = 5
RECORDED = ("warnings", "breaches", "escalations")
BIG = 10_000  # rows: a plan that reads this many for a scan's few clocks is flagged

# Each running clock by how far it has gone: `shape` is future, warned (a warning recorded
# already), warn (its warning crossed) or both (its warning and due time crossed).
CLOCK_ROWS = """(
    SELECT session_id, kind, shape,
        CASE shape
            WHEN 'future' THEN %(t0)s + interval '1 hour' + r * interval '7 days'
            WHEN 'warned' THEN %(t0)s - interval '1 minute' - r * interval '1 hour'
            WHEN 'warn' THEN %(t0)s - interval '1 minute' - r * interval '5 minutes'
            ELSE %(t0)s - interval '30 minutes' - r * interval '5 minutes'
        END AS warns,
        CASE shape
            WHEN 'future' THEN %(t0)s + interval '3 hours' + r * interval '7 days'
            WHEN 'both' THEN %(t0)s - interval '1 minute' - r * interval '5 minutes'
            ELSE %(t0)s + interval '1 hour' + r * interval '1 day'
        END AS due
    FROM (
        SELECT s.id AS session_id, k.kind, random() AS r,
            CASE
                WHEN mod(k.g, %(step)s) = 0 AND k.g / %(step)s < %(crossing)s
                THEN CASE WHEN mod(k.g / %(step)s, 2) = 0 THEN 'warn' ELSE 'both' END
                WHEN mod(k.g, 1000) BETWEEN 1 AND %(warned_per_mille)s THEN 'warned'
                ELSE 'future'
            END AS shape
        FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM relay_relaysession) AS s
        CROSS JOIN LATERAL (
            SELECT kind, s.i * %(per_session)s + n - 1 AS g
            FROM unnest(%(kinds)s::varchar[]) WITH ORDINALITY AS u(kind, n)
        ) AS k
        WHERE k.g < %(clocks)s
    ) AS numbered
) AS row"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--crossing", type=int, default=1000)
    parser.add_argument(
        "--per-session", type=int, default=len(CLOCKS), choices=range(1, len(CLOCKS) + 1)
    )
    parser.add_argument("--warned-share", type=float, default=0.1)
    parser.add_argument("--plans", action="store_true", help="print the plans whole")
    options = parser.parse_args()
    if not 0 <= options.warned_share <= 0.99:
        parser.error("--warned-share must lie between 0 and 0.99")
    if not 0 <= options.crossing <= options.clocks:
        parser.error("--crossing must lie between 0 and --clocks")
    if connection.vendor != "postgresql":
        sys.exit(
            f"bench_sla measures PostgreSQL, not {connection.vendor}: set DATABASE_URL, "
            "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
        )
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    # A database of its own: the minutes it takes must not clobber a test run's test_<name>.
    connection.settings_dict["TEST"]["NAME"] = f"{old_name}_bench_sla"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(
            options.clocks,
            options.crossing,
            options.per_session,
            options.warned_share,
            plans=options.plans,
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(clocks: int, crossing: int, per_session: int, warned_share: float, *, plans: bool) -> None:
    started = time.perf_counter()
    sessions = _load(clocks, crossing, per_session, warned_share)
    print(
        f"loaded {sessions} sessions and {clocks} running clocks ({crossing} crossed, "
        f"{warned_share:.0%} warned already) in "
        f"{time.perf_counter() - started:.1f} s; {_sizes()}"
    )
    crossed = list(  # put back as they were for the plans, after the scans have recorded them
        SlaClock.objects.filter(warned_at__isnull=True, warns_at__lte=timezone.now())
        .order_by()
        .values_list("pk", flat=True)
    )

    peak_before = _peak_mb()
    with _counted() as statements:
        started = time.perf_counter()
        counts = clocks_scan()
        elapsed = time.perf_counter() - started
    recorded = ", ".join(f"{n} {name}" for n, name in zip(counts, RECORDED, strict=False))
    print(
        f"first scan: {elapsed:.3f} s, recorded {recorded} ({len(mail.outbox)} mails) in "
        f"{statements}"
    )
    print(f"  peak memory of the process: {peak_before:.0f} MB before, {_peak_mb():.0f} MB after")

    timings = []
    for _ in range(ROUNDS):
        with _counted() as statements:
            started = time.perf_counter()
            counts = clocks_scan()
            timings.append((time.perf_counter() - started) * 1000)
    print(
        f"steady scan (recorded {sum(counts)}): median {statistics.median(timings):.2f} ms, "
        f"min {min(timings):.2f}, max {max(timings):.2f} over {ROUNDS} scans, "
        f"the last one {statements}; peak memory {_peak_mb():.0f} MB"
    )
    _plans(crossed, whole=plans)


def _load(clocks: int, crossing: int, per_session: int, warned_share: float) -> int:
    """One policy, `clocks` running clocks on as many sessions as they need; the sessions'
    count. The clocks that cross are spread over the table, not packed at its start."""
    t0 = timezone.now()
    pool = MaskingPool.objects.create(name="bench")
    partner = partner_create(code="bench", name="Bench partner", kind="factory", contacts=[])
    policy = SlaPolicy.objects.create(name="bench", workflow="booking")
    version = SlaPolicyVersion.objects.create(
        policy=policy, number=1, targets=dict.fromkeys(CLOCKS, 3600), escalate_after=3600
    )
    boss = get_user_model().objects.create_user("boss", email="boss@example.com")
    Agent.objects.create(user=boss, supervisor=True)  # every warning and breach is mailed
    sessions = -(-clocks // per_session)
    session_values = {
        "external_ref": "'BENCH-' || n",
        "pool": "%(pool)s",
        "partner": "%(partner)s",
        "ttl": "interval '7 days'",
        "expires_at": "%(t0)s + interval '7 days'",
        "created_at": "%(t0)s - interval '1 hour'",
    }
    clock_values = {
        "session": "session_id",
        "clock": "kind",
        "version": "%(version)s",
        "state": f"CASE shape WHEN 'warned' THEN '{ClockState.WARNED}' "
        f"ELSE '{ClockState.RUNNING}' END",
        "started_at": "least(warns, %(t0)s) - interval '1 hour'",
        "warns_at": "warns",
        "due_at": "due",
        "warned_at": "CASE shape WHEN 'warned' THEN warns END",
    }
    params = {
        "t0": t0,
        "pool": pool.pk,
        "partner": partner.pk,
        "sessions": sessions,
        "version": version.pk,
        "kinds": list(CLOCKS[:per_session]),
        "per_session": per_session,
        "clocks": clocks,
        "crossing": crossing,
        "step": max(clocks // max(crossing, 1), 1),
        "warned_per_mille": round(warned_share * 1000),
    }
    with connection.cursor() as cursor:
        for model, values, rows in (
            (RelaySession, session_values, "generate_series(1, %(sessions)s) AS n"),
            (SlaClock, clock_values, CLOCK_ROWS),
        ):
            sql, defaults = _insert(model, values, rows)
            cursor.execute(sql, params | defaults)
        cursor.execute("ANALYZE relay_relaysession, sla_slaclock")
    return sessions


def _insert(model: type[Model], values: dict[str, str], rows: str) -> tuple[str, dict]:
    """INSERT ... SELECT of `model` from `rows`, with `values` (SQL by field name) and each
    other field's default, so that a field added with a default needs no change here."""
    columns, expressions, defaults = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key or (field.name not in values and field.null):
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


def _plans(crossed: list[int], *, whole: bool) -> None:
    """EXPLAIN (ANALYZE) of the scan's selects, in a transaction that is rolled back: once
    with the crossed clocks as they were before the first scan, once with nothing to do."""
    plans: list[list[str]] = []

    def explain(execute, sql, params, many, context):
        if sql.startswith("SELECT") and " FOR UPDATE" in sql:
            cursor = context["cursor"]
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plans.append([line for (line,) in cursor.fetchall()])
        return execute(sql, params, many, context)

    with transaction.atomic():
        SlaClock.objects.filter(pk__in=crossed).update(
            warned_at=None, breached_at=None, state=ClockState.RUNNING
        )
        with connection.execute_wrapper(explain):
            clocks_scan()
            first = len(plans)
            clocks_scan()
        transaction.set_rollback(True)
    print("plans of the scan's selects (EXPLAIN ANALYZE, rolled back):")
    for n, lines in enumerate(plans):
        label = "first scan" if n < first else "steady scan"
        print(f"  {label}, select {n % first + 1} of {first}: {_verdict(lines)}")
        if whole:
            print("\n".join(f"      {line}" for line in lines))


def _verdict(lines: list[str]) -> str:
    plan = "\n".join(lines)
    indexes = re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (clocks_to_\w+)", plan)
    notes = [f"clocks through {', '.join(indexes) or 'NO PARTIAL INDEX'}"]
    removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
    if removed and max(removed) >= BIG:
        notes.append(f"{max(removed)} ROWS READ AND THROWN AWAY")
    for table, rows in re.findall(r"Seq Scan on (\w+) .*?rows=(\d+)", plan):
        if int(rows) >= BIG:
            notes.append(f"SEQUENTIAL SCAN of {table} ({rows} rows planned)")
    notes += re.findall(r"Execution Time: .*", plan)
    return "; ".join(notes)


@dataclasses.dataclass
class Statements:
    """The statements run, by their first word, and the time spent waiting on them."""

    kinds: Counter[str] = dataclasses.field(default_factory=Counter)
    seconds: float = 0.0

    def __str__(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.kinds.most_common())
        return f"{self.kinds.total()} statements ({kinds}; {self.seconds * 1000:.1f} ms in them)"


@contextmanager
def _counted():
    statements = Statements()

    def count(execute, sql, params, many, context):
        statements.kinds[sql.split(None, 1)[0].upper()] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.seconds += time.perf_counter() - started

    with connection.execute_wrapper(count):
        yield statements


def _sizes() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname = 'sla_slaclock' OR relname LIKE 'clocks_to_%' ORDER BY relname DESC"
        )
        return ", ".join(f"{name} {size}" for name, size in cursor.fetchall())


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


if __name__ == "__main__":
    main()
