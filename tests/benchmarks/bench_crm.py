"""Benchmark: sustained CRM event deliveries per second to a receiver on 127.0.0.1, sent by
real delivery worker processes (`manage.py worker --deliveries`) on a throwaway PostgreSQL
database filled with bulk SQL. `--events` outbox events, not yet fanned out, are spread at
random over `--bookings` sessions, so a booking's events wait for each other; `--endpoints`
endpoints take every type. The receiver, in a process of its own, answers 200 "ok" with
keep-alive; with `--verify` it checks each signature with the standardwebhooks library.
Prints the time to the first delivery, the sustained rate (from 10 % to 90 % delivered), the
total time, the CPU of the workers, the receiver and the machine over that steady part, the
connections and transactions per delivery PostgreSQL counted, then a baseline in this
process (one thread, deliveries_send_due) with its statements per delivery, and checks that
every delivery went once and in order per booking; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_crm [--events 20000] [--bookings 2000]
        [--endpoints 4] [--workers 2] [--senders CRM_SENDERS]
        [--in-flight CRM_IN_FLIGHT_PER_ENDPOINT] [--verify] [--baseline 200] [--timeout 1800]

Uses DATABASE_URL like the tests, which must name a PostgreSQL server; the throwaway
database is test_<name>_bench_crm_<pid>, and the workers get DATABASE_URL naming it, with
CRM_ALLOW_PRIVATE_URLS=true. Where autovacuum is off, the deliveries are analyzed by this
script as autovacuum would (the claim's plan depends on their statistics).
"""

import argparse
import contextlib
import dataclasses
import itertools
import multiprocessing
import os
import re
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Model
from django.test import override_settings
from django.test.utils import setup_test_environment
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from crm_sync.delivery import deliveries_send_due
from crm_sync.models import Attempt, Delivery, OutboxEvent
from crm_sync.services import endpoint_create
from relay.models import MaskingPool, RelaySession
from tests.benchmarks import harness

POLL_SECONDS = 0.5
STEADY = (0.1, 0.9)  # the share delivered where the sustained rate starts and ends
TICK = os.sysconf("SC_CLK_TCK")

# Each event to a session drawn at random (seeded), numbered in the order of its id.
EVENT_ROWS = """(
    SELECT n, s.id AS session_id, s.external_ref
    FROM (
        SELECT n, floor(random() * %(bookings)s)::int AS k
        FROM generate_series(1, %(events)s) AS n
    ) AS e
    JOIN (
        SELECT id, external_ref, row_number() OVER (ORDER BY id) - 1 AS k
        FROM relay_relaysession
    ) AS s USING (k)
    ORDER BY n
) AS row"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="delivery worker processes")
    parser.add_argument("--senders", type=int, default=settings.CRM_SENDERS, help="per worker")
    parser.add_argument("--in-flight", type=int, default=settings.CRM_IN_FLIGHT_PER_ENDPOINT)
    parser.add_argument("--verify", action="store_true", help="the receiver checks signatures")
    parser.add_argument("--baseline", type=int, default=200, help="events sent in-process")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before giving up")
    options = parser.parse_args()
    if min(options.events, options.bookings, options.endpoints, options.workers) < 1:
        parser.error("--events, --bookings, --endpoints and --workers must be at least 1")
    if connection.vendor != "postgresql":
        sys.exit(
            f"bench_crm measures PostgreSQL, not {connection.vendor}: set DATABASE_URL, "
            "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
        )
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    # A database of its own, named after this process: neither a test run's test_<name> nor
    # another run of this benchmark is clobbered.
    connection.settings_dict["TEST"]["NAME"] = f"{old_name}_bench_crm_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(options)
    finally:
        with contextlib.suppress(DatabaseError):
            _sessions_gone()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(options: argparse.Namespace) -> None:
    expected = options.events * options.endpoints
    receiver = Receiver()
    started = time.perf_counter()
    secrets = [
        endpoint_create(url=f"{receiver.url}/hooks/{n}", events=["*"])[1]
        for n in range(options.endpoints)
    ]
    _load(options.events, options.bookings, prefix="run")
    print(
        f"loaded {options.bookings} sessions, {options.events} events not fanned out and "
        f"{options.endpoints} endpoints ({expected} deliveries to make) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(
        f"{options.workers} workers x {options.senders} senders, at most {options.in_flight} "
        f"in flight per endpoint ({options.endpoints * options.in_flight} in all); receiver "
        f"{'verifies signatures' if options.verify else 'does not verify'}; "
        f"{os.cpu_count()} CPUs"
    )
    if not _autovacuum():
        print(
            "autovacuum is off on this server: this script analyzes the deliveries once "
            "they are made and after each tenth delivered"
        )
    connection.close()  # the receiver's fork must not share it
    receiver.start(secrets if options.verify else None)
    try:
        if not _measure(options, expected, receiver):
            print("baseline skipped: the run left deliveries to make")
        elif options.baseline:
            _baseline(options)
            expected += options.baseline * options.endpoints
        print(f"receiver: {receiver.summary()}")
    finally:
        receiver.stop()
    _check(expected)


def _measure(options: argparse.Namespace, expected: int, receiver: "Receiver") -> bool:
    """Run the workers until all is delivered (or they stop, or time is up) and print what
    they did; whether all was delivered."""
    env = harness.switchboard_env(
        _database_url(),
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,  # the endpoints' secrets
        CRM_ALLOW_PRIVATE_URLS="true",
        CRM_SENDERS=str(options.senders),
        CRM_IN_FLIGHT_PER_ENDPOINT=str(options.in_flight),
    )
    before = _database_stats()
    launched = time.time()
    with contextlib.ExitStack() as stack:
        workers = [
            stack.enter_context(
                harness.process(harness.manage("worker", "--deliveries"), env=env, quiet=False)
            )
            for _ in range(options.workers)
        ]
        pids = [worker.pid for worker in workers]
        samples = _wait(options, workers, CpuMeter(pids, receiver.pid).sample)
    stats = _database_stats() - before
    stats.commits -= 2 * len(samples)  # the benchmark's own: two a poll

    times = sorted(
        at.timestamp()
        for at in Delivery.objects.exclude(delivered_at=None).values_list("delivered_at", flat=True)
    )
    if len(times) < 2:
        print(f"{len(times)} delivered in {time.time() - launched:.0f} s")
        return False
    print(
        f"first delivery {times[0] - launched:.2f} s after the workers were started (their "
        f"start-up included), the last after {times[-1] - launched:.1f} s: {len(times)} of "
        f"{expected} delivered, {len(times) / (times[-1] - launched):.0f}/s over the whole run"
    )
    # From 10 % to 90 % of what was to be delivered; to the last one when the run gave up.
    low, high = (min(max(round(share * expected), 1), len(times)) - 1 for share in STEADY)
    if high <= low:
        low = 0
    seconds = times[high] - times[low]
    rate = (high - low) / seconds
    print(
        f"sustained, from delivery {low + 1} to {high + 1} of {expected} ({seconds:.1f} s): "
        f"{rate:.1f} deliveries/s, {rate / options.workers:.1f}/s per worker"
        + ("" if len(times) == expected else " (INCOMPLETE RUN)")
    )
    workers_cpu, receiver_cpu, backends, machine = (
        b - a for a, b in zip(_at(samples, times[low]), _at(samples, times[high]), strict=True)
    )
    rest = machine - workers_cpu - receiver_cpu - backends
    per = 1000 / (high - low)
    print(
        f"  CPU ms per delivery then: workers {workers_cpu * per:.2f}, receiver "
        f"{receiver_cpu * per:.2f}, PostgreSQL backends seen at a poll {backends * per:.2f}, "
        f"the rest of the machine {rest * per:.2f} (short-lived backends, this script, "
        f"anything else running); the machine was {machine / seconds / os.cpu_count():.0%} busy"
    )
    print(
        f"  CPU of the whole run: workers {samples[-1][1][0]:.1f} s (start-up included), "
        f"receiver {samples[-1][1][1]:.1f} s"
    )
    print(f"  PostgreSQL counted per delivery: {stats.per(len(times))}")
    return len(times) == expected


def _wait(options: argparse.Namespace, workers: list, sample) -> list:
    """Poll until nothing is left to deliver, a worker stopped or the time is up; a sample
    of the CPU counters at each poll. Where autovacuum is off, the deliveries are analyzed
    here, when they are all made and after each tenth delivered, as it would: the claim's
    plan depends on their statistics."""
    expected = options.events * options.endpoints
    deadline = time.monotonic() + options.timeout
    analyze, analyzed = not _autovacuum(), None
    samples, shown = [], None
    while True:
        samples.append(sample())
        pending, unfanned = _backlog()
        left = pending + unfanned * options.endpoints  # all endpoints take every type
        if analyze and not unfanned and (analyzed is None or analyzed - left >= expected / 10):
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
            analyzed = left
        if not samples[1:] or left != shown:
            _progress("delivered", expected - left, expected)
            shown = left
        if not left:
            return samples
        if stopped := [worker.pid for worker in workers if worker.poll() is not None]:
            sys.stderr.write(f"\nworker {stopped} stopped, {left} deliveries left\n")
            return samples
        if time.monotonic() > deadline:
            sys.stderr.write(f"\ngave up after {options.timeout:.0f} s, {left} left\n")
            return samples
        time.sleep(POLL_SECONDS)


def _backlog() -> tuple[int, int]:
    """Deliveries pending, and events not yet fanned out; both counts read a partial index."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {Delivery._meta.db_table} WHERE status = 'pending'), "
            f"(SELECT count(*) FROM {OutboxEvent._meta.db_table} WHERE NOT fanned_out)"
        )
        return cursor.fetchone()


def _autovacuum() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0] == "on"


def _at(samples: list, when: float) -> tuple[float, ...]:
    """The counters at `when`, between the two samples around it."""
    for (t1, v1), (t2, v2) in itertools.pairwise(samples):
        if t1 <= when <= t2:
            share = (when - t1) / (t2 - t1) if t2 > t1 else 0.0
            return tuple(a + (b - a) * share for a, b in zip(v1, v2, strict=True))
    return samples[-1][1] if when > samples[-1][0] else samples[0][1]


def _baseline(options: argparse.Namespace) -> None:
    """`--baseline` events more, sent by deliveries_send_due in this thread, every statement
    counted."""
    events = options.baseline
    _load(events, options.bookings, prefix="baseline")
    before = _database_stats()
    with (
        override_settings(CRM_IN_FLIGHT_PER_ENDPOINT=options.in_flight),
        _counted() as statements,
    ):
        started = time.perf_counter()
        sent = 0
        while done := deliveries_send_due():
            sent += done
        elapsed = time.perf_counter() - started
    stats = _database_stats() - before
    print(
        f"baseline in this process, one thread: {sent} of {events * options.endpoints} "
        f"deliveries in {elapsed:.1f} s ({sent / elapsed:.0f}/s); per delivery "
        f"{statements.total() / sent:.1f} statements ({statements.seconds / sent * 1000:.2f} ms "
        f"in them), {stats.commits / sent:.1f} commits"
    )
    for label, count in statements.kinds.most_common(10):
        spent = statements.spent[label]
        print(
            f"  {count:6} x {label} ({count / sent:.2f} per delivery): "
            f"{spent / count * 1000:.2f} ms each"
        )


def _check(expected: int) -> None:
    """Every delivery made and delivered, tried exactly once (one attempt each, all 200),
    and per booking in order at each endpoint: its attempts, in the order of their ids,
    follow the events' order."""
    delivery, attempt = Delivery._meta.db_table, Attempt._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT
                (SELECT count(*) FROM {delivery}),
                (SELECT count(*) FROM {delivery} WHERE status <> 'delivered'),
                (SELECT count(*) FROM {attempt}),
                (SELECT count(*) FROM {attempt} WHERE status_code IS DISTINCT FROM 200),
                (SELECT count(*) FROM (
                    SELECT 1 FROM {delivery} GROUP BY endpoint_id, event_id HAVING count(*) > 1
                ) AS repeated),
                (SELECT count(*) FROM (
                    SELECT 1 FROM {attempt} GROUP BY delivery_id HAVING count(*) > 1
                ) AS again),
                (SELECT count(*) FROM (
                    SELECT d.event_id, lag(d.event_id) OVER (
                        PARTITION BY d.endpoint_id, d.session_id ORDER BY a.id
                    ) AS before
                    FROM {attempt} AS a JOIN {delivery} AS d ON d.id = a.delivery_id
                ) AS tried WHERE before > event_id)"""
        )
        made, undelivered, attempts, failed, repeated, again, disordered = cursor.fetchone()
    if repeated or again or disordered or attempts != made - undelivered:
        verdict = "FAILED"
    else:  # what went, went once and in order
        verdict = "OK" if made == expected and not undelivered else "INCOMPLETE"
    print(
        f"check: {made} of {expected} deliveries made, {undelivered} not delivered; "
        f"{attempts} attempts ({failed} not answered 200); {repeated} repeated "
        f"(endpoint, event); {again} tried more than once; {disordered} out of order "
        f"within a booking: {verdict}"
    )


def _load(events: int, bookings: int, *, prefix: str) -> None:
    """`events` booking.status_changed events, not fanned out, on `bookings` sessions drawn
    at random (made first when missing)."""
    t0 = timezone.now()
    session_values = {
        "external_ref": "'BENCH-' || n",
        "pool": "%(pool)s",
        "ttl": "interval '7 days'",
        "expires_at": "%(t0)s + interval '7 days'",
        "created_at": "%(t0)s - interval '1 hour'",
    }
    event_values = {
        "event_id": "%(prefix)s || n",
        "type": "'booking.status_changed'",
        "session": "session_id",
        "external_ref": "external_ref",
        "data": "jsonb_build_object('session_id', session_id, 'external_ref', external_ref, "
        "'workflow', 'booking', 'from', 'requested', 'to', 'confirmed')",
        "occurred_at": "%(t0)s + n * interval '1 millisecond'",
        "fanned_out": "false",
    }
    params = {"t0": t0, "bookings": bookings, "events": events, "prefix": f"evt_{prefix}_"}
    with connection.cursor() as cursor:
        if not RelaySession.objects.exists():
            params["pool"] = MaskingPool.objects.create(name="bench").pk
            sql, defaults = _insert(
                RelaySession, session_values, "generate_series(1, %(bookings)s) AS n"
            )
            cursor.execute(sql, params | defaults)
        cursor.execute("SELECT setseed(0.5)")
        sql, defaults = _insert(OutboxEvent, event_values, EVENT_ROWS)
        cursor.execute(sql, params | defaults)
        cursor.execute(f"ANALYZE relay_relaysession, {OutboxEvent._meta.db_table}")


def _insert(model: type[Model], values: dict[str, str], rows: str) -> tuple[str, dict]:
    """INSERT ... SELECT of `model` from `rows`, with `values` (SQL by field name) and each
    other field's default, so that a field added with a default needs no change here (as
    in bench_sla)."""
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


class Receiver(ThreadingHTTPServer):
    """A CRM on 127.0.0.1, in a process of its own (forked): 200 "ok" to every POST, a thread
    per kept-alive connection. It counts the POSTs, the signatures that failed and the
    webhook-ids an endpoint received twice."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Answer)  # listening already: no wait for a port
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.counts = multiprocessing.get_context("fork").Array("q", 3)
        self.webhooks: dict[str, Webhook] = {}
        self.seen: set[tuple[str, str]] = set()
        self.lock = threading.Lock()
        self.child: multiprocessing.Process | None = None
        self.pid = 0

    def start(self, secrets: list[str] | None) -> None:
        if secrets:
            self.webhooks = {f"/hooks/{n}": Webhook(secret) for n, secret in enumerate(secrets)}
        self.child = multiprocessing.get_context("fork").Process(
            target=self.serve_forever, daemon=True
        )
        self.child.start()
        self.pid = self.child.pid
        self.socket.close()  # the child's now

    def stop(self) -> None:
        if self.child is not None:
            self.child.terminate()
            self.child.join()

    def took(self, path: str, body: bytes, headers) -> None:
        rejected = 0
        if self.webhooks:
            try:
                self.webhooks[path].verify(body, headers)
            except (KeyError, WebhookVerificationError):
                rejected = 1
        key = (path, headers["webhook-id"])
        with self.lock:
            repeated = key in self.seen
            self.seen.add(key)
            self.counts[0] += 1
            self.counts[1] += rejected
            self.counts[2] += repeated

    def summary(self) -> str:
        posts, rejected, repeated = self.counts[:]
        checked = f"{rejected} signatures failed" if self.webhooks else "signatures not checked"
        return f"{posts} POSTs, {checked}, {repeated} webhook-ids received again"


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # the head and "ok" go as they are written

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.took(self.path, body, self.headers)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args) -> None:
        pass


@dataclasses.dataclass
class DatabaseStats:
    """What pg_stat_database counts for the throwaway database."""

    sessions: int = 0
    commits: int = 0
    rollbacks: int = 0
    inserted: int = 0
    updated: int = 0

    def __sub__(self, other: "DatabaseStats") -> "DatabaseStats":
        pairs = zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)
        return DatabaseStats(*(a - b for a, b in pairs))

    def per(self, deliveries: int) -> str:
        values = dataclasses.asdict(self)
        counted = ", ".join(f"{n / deliveries:.2f} {name}" for name, n in values.items())
        return f"{counted} (sessions: connections opened)"


def _database_stats() -> DatabaseStats:
    # A backend reports to pg_stat_database when it ends, or within a second: wait for it.
    connection.close()
    time.sleep(1.1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sessions, xact_commit, xact_rollback, tup_inserted, tup_updated "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        return DatabaseStats(*cursor.fetchone())


def _sessions_gone(seconds: float = 15) -> None:
    """Wait for the workers' backends to end: the database is not dropped while in use."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if not cursor.fetchone()[0]:
                return
        time.sleep(0.2)


def _database_url() -> str:
    """DATABASE_URL, naming the throwaway database instead."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path=f"/{connection.settings_dict['NAME']}").geturl()


class CpuMeter:
    """CPU seconds, as a sample: of the workers together, of the receiver, of the database's
    backends (those seen at a sample; one a delivery may end unseen) and of the whole
    machine (busy, all CPUs)."""

    def __init__(self, workers: list[int], receiver: int) -> None:
        self.workers, self.receiver = workers, receiver
        self.backends: dict[int, float] = {}  # by pid, as last seen

    def sample(self) -> tuple[float, tuple[float, float, float, float]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            for (pid,) in cursor.fetchall():
                self.backends[pid] = _process_cpu(pid) or self.backends.get(pid, 0.0)
        with open("/proc/stat") as stat:
            jiffies = [int(n) for n in stat.readline().split()[1:]]
        machine = (sum(jiffies) - jiffies[3] - jiffies[4]) / TICK  # all but idle and iowait
        workers = sum(map(_process_cpu, self.workers))
        return time.time(), (
            workers,
            _process_cpu(self.receiver),
            sum(self.backends.values()),
            machine,
        )


def _process_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime of all its threads


@dataclasses.dataclass
class Statements:
    """The statements run, by their first word and table, and the time spent waiting on
    each kind."""

    kinds: Counter[str] = dataclasses.field(default_factory=Counter)
    spent: Counter[str] = dataclasses.field(default_factory=Counter)

    @property
    def seconds(self) -> float:
        return sum(self.spent.values())

    def total(self) -> int:
        return self.kinds.total()


@contextmanager
def _counted():
    statements = Statements()

    def count(execute, sql, params, many, context):
        table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
        label = f"{sql.split(None, 1)[0].upper()} {table[1] if table else ''}".strip()
        label += " FOR UPDATE" if " FOR UPDATE" in sql else ""
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.kinds[label] += 1
            statements.spent[label] += time.perf_counter() - started

    with connection.execute_wrapper(count):
        yield statements


def _progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r{label:10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")


if __name__ == "__main__":
    main()
