"""Benchmark: Switchboard's webhook beside the minimal durable one (check the signature, parse,
one INSERT, one commit), on the same machine and database, under gunicorn. Prints the
throughput of each (wrk, closed loop, the two in turns), the ratio of their medians, and the
latency of each at fixed offered rates (open loop). Asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_webhook [--seconds 10] [--turns 3] [--workers 4]

Needs PostgreSQL (BENCH_DATABASE_URL, else DATABASE_URL, else postgres@127.0.0.1) and wrk
(Debian's wrk package). Drops and creates the database bench_webhook.
"""

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import psycopg

from tests.benchmarks import harness

PATH = "/webhooks/whatsapp/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers on each side")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--turns", type=int, default=3, help="wrk runs of each side, in turns")
    parser.add_argument("--rates", default="100,300,1000", help="open-loop posts per second")
    options = parser.parse_args()
    admin = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "DATABASE_URL", harness.DEFAULT_DATABASE
    )
    database = harness.fresh_database(admin, "bench_webhook")
    env = harness.switchboard_env(database, MINIMAL_DATABASE_URL=database)
    subprocess.run(harness.manage("migrate", "-v0"), cwd=harness.ROOT, env=env, check=True)
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute("CREATE TABLE minimal_webhook (id bigserial PRIMARY KEY, body text)")
    bodies = [_signed_body(n) for n in range(3000)]
    rates = [int(rate) for rate in options.rates.split(",")]

    apps = {
        "minimal": "tests.benchmarks.minimal_webhook:application",
        "switchboard": "config.wsgi:application",
    }
    ports = {name: harness.free_port() for name in apps}
    with contextlib.ExitStack() as servers:
        for name, app in apps.items():
            command = harness.gunicorn(app, ports[name], options.workers)
            servers.enter_context(harness.process(command, env=env, port=ports[name]))
            _warm_up(ports[name], bodies)
        # Both sides in turns, so that a passing disturbance of the machine (autovacuum, a
        # neighbour) weighs on each alike; each side's median is compared.
        rates_seen = {name: [] for name in apps}
        for turn in range(1, options.turns + 1):
            for name in apps:
                _checkpoint(database)  # neither side pays for writing out what the other wrote
                rate, p50 = _wrk(ports[name], bodies, options.seconds, options.connections)
                rates_seen[name].append(rate)
                print(
                    f"{name:12} turn {turn}, wrk -c{options.connections}: {rate:.0f} req/s, "
                    f"p50 {p50}"
                )
        for name in apps:
            for rate in rates:
                requests = [
                    _request(bodies[n % len(bodies)]) for n in range(rate * options.seconds)
                ]
                _checkpoint(database)
                latencies = harness.open_loop(ports[name], PATH, requests, rate)
                print(f"{name:12} {rate:5} posts/s offered: {latencies.summary()}")
    medians = {name: statistics.median(seen) for name, seen in rates_seen.items()}
    print(
        f"median of {options.turns} turns: minimal {medians['minimal']:.0f} req/s, "
        f"switchboard {medians['switchboard']:.0f} req/s"
    )
    print(f"ratio switchboard / minimal: {medians['switchboard'] / medians['minimal']:.0%}")
    _check_nothing_lost(database)


def _signed_body(n: int) -> tuple[bytes, str]:
    item = {
        "from": "14155550123",
        "id": f"wamid.bench.{n}.{time.time_ns()}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": f"Is desk {n} free tomorrow at 10?"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001001", "phone_number_id": "1001"},
        "contacts": [{"profile": {"name": "Sam"}, "wa_id": "14155550123"}],
        "messages": [item],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(envelope).encode()
    signature = "sha256=" + hmac.new(harness.APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, signature


def _request(signed: tuple[bytes, str]) -> bytes:
    body, signature = signed
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    return harness.http_post(PATH, body, headers)


def _checkpoint(database: str) -> None:
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def _warm_up(port: int, bodies) -> None:
    harness.open_loop(port, PATH, [_request(b) for b in bodies[:200]], 200)


def _wrk(port: int, bodies, seconds: int, connections: int) -> tuple[float, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(bodies))
    done = subprocess.run(  # noqa: S603
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    p50 = re.search(r"^\s*50%\s+(\S+)", done.stdout, re.MULTILINE).group(1)
    if "Non-2xx" in done.stdout:
        print(done.stdout)
    return rate, p50


def _lua(bodies) -> str:
    rows = ",\n".join(f'{{[==[{body.decode()}]==], "{signature}"}}' for body, signature in bodies)
    return (
        f"local bodies = {{\n{rows}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        "  local headers = {['Content-Type'] = 'application/json',"
        " ['X-Hub-Signature-256'] = bodies[i][2]}\n"
        f"  return wrk.format('POST', '{PATH}', headers, bodies[i][1])\n"
        "end\n"
    )


def _check_nothing_lost(database: str) -> None:
    with psycopg.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM relay_webhookpayload").fetchone()[0]
        minimal = connection.execute("SELECT count(*) FROM minimal_webhook").fetchone()[0]
    print(f"stored: switchboard {stored} payloads, minimal {minimal} rows")


if __name__ == "__main__":
    main()
