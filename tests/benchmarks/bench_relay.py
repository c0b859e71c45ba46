"""Benchmark: the relay's own work in one process, on a throwaway test database. The webhook
acknowledges a backlog of messages spread over several conversations (nothing is handled
yet), then one worker loop works through it, sending to a fake Graph API on loopback (in a
process of its own, so that its CPU is not counted as the worker's). Prints the rate, the
CPU spent per message by the worker and by its database connection, and the statements per
message; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_relay [--messages 2000] [--sessions 20]

Uses DATABASE_URL like the tests (SQLite when unset). The database's CPU is read from its
process when it runs on this machine (PostgreSQL on loopback).
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import setup_test_environment

from relay import worker
from relay.models import Message
from tests.benchmarks import harness
from tests.relay import wa

UNPACED = {"RELAY_PAIR_BURST": 10**6, "RELAY_PAIR_INTERVAL_SECONDS": 0.001}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    options = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    port = harness.free_port()
    graph = multiprocessing.get_context("fork").Process(target=_graph, args=(port,), daemon=True)
    graph.start()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with override_settings(
            RELAY_PROVIDER="whatsapp",
            WHATSAPP_API_BASE=f"http://127.0.0.1:{port}/v25.0",
            ALLOWED_HOSTS=["testserver"],
            **UNPACED,
        ):
            run(options.messages, options.sessions)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        graph.terminate()


def _graph(port: int) -> None:
    harness.FakeGraph(port).start()
    threading.Event().wait()


def run(count: int, sessions: int) -> None:
    senders = harness.sessions_with_partners(sessions)
    client = Client()
    latencies = []
    with override_settings(RELAY_INLINE_WORK=False):  # acknowledge only: nothing is handled yet
        for n in range(count):
            phone, number = senders[n % sessions]
            body = wa.encode(wa.envelope(number, messages=[wa.message(phone, body=f"m {n}")]))
            started = time.perf_counter()
            response = client.post(
                "/webhooks/whatsapp/",
                data=body,
                content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=wa.sign(body, settings.WHATSAPP_APP_SECRET),
            )
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            _progress("acknowledge", n + 1, count)
    _report_latency(latencies)

    database_cpu = _database_cpu()
    cpu, started = time.process_time(), time.perf_counter()
    statements = []
    with connection.execute_wrapper(lambda execute, *args: statements.append(1) or execute(*args)):
        worker.drain()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    relayed = Message.objects.filter(direction="out", status="sent").count()
    print(
        f"relay: {relayed} of {count} messages relayed in {elapsed:.2f} s "
        f"({relayed / elapsed:.0f}/s, one loop, {connection.vendor})"
    )
    per_message = f"worker {cpu / count * 1000:.2f} ms"
    if database_cpu is not None:
        per_message += f", database {(_database_cpu() - database_cpu) / count * 1000:.2f} ms"
    print(f"CPU per message: {per_message}; statements per message {len(statements) / count:.1f}")


def _database_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL process, when it runs on this machine."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _report_latency(latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    print(
        f"acknowledge: n={len(ordered)} median={statistics.median(ordered):.1f} ms "
        f"p95={p(0.95):.1f} ms p99={p(0.99):.1f} ms max={ordered[-1]:.1f} ms "
        f"over 1 s: {sum(v > 1000 for v in ordered)}"
    )


def _progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r{label:12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")


if __name__ == "__main__":
    main()
