"""Benchmark: the relay end to end, deployed as the README recommends: gunicorn takes Meta's
webhooks, `manage.py worker` relays them to a fake Graph API on loopback that answers at
once. Posts messages in many conversations, and prints the relay rate (first post to last
copy sent), the latency of each message (post to copy sent), and what was lost, duplicated
or reordered. Asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_e2e [--messages 2000] [--sessions 20]

Needs PostgreSQL (BENCH_DATABASE_URL, else DATABASE_URL, else postgres@127.0.0.1); drops and
creates the database bench_e2e. Pacing per conversation is lifted, as for a load test.
"""

import argparse
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import time

from tests.benchmarks import harness

PATH = "/webhooks/whatsapp/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--loops", type=int, default=2, help="relay loops of manage.py worker")
    parser.add_argument("--rate", type=int, default=1000, help="posts per second offered")
    options = parser.parse_args()
    admin = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "DATABASE_URL", harness.DEFAULT_DATABASE
    )
    graph = harness.FakeGraph()
    graph.start()
    database = harness.fresh_database(admin, "bench_e2e")
    env = harness.switchboard_env(
        database,
        WHATSAPP_API_BASE=f"http://127.0.0.1:{graph.port}/v25.0",
        RELAY_PAIR_BURST="1000000",
        RELAY_PAIR_INTERVAL_SECONDS="0.001",
    )
    subprocess.run(harness.manage("migrate", "-v0"), cwd=harness.ROOT, env=env, check=True)
    customers = _set_up(env, options.sessions)
    posts = _posts(customers, options.messages)

    port = harness.free_port()
    web = harness.gunicorn("config.wsgi:application", port, options.web_workers)
    loops = harness.manage("worker", "--loops", str(options.loops))
    with harness.process(web, env=env, port=port), harness.process(loops, env=env):
        time.sleep(2)  # the loops connect
        started = time.perf_counter()
        posted = _post_all(port, posts, options.rate)
        graph.wait_for(len(posts), timeout=600)
        done = time.perf_counter()
    graph.stop()
    _report(posts, posted, graph, started, done)


def _set_up(env: dict, sessions: int) -> list[tuple[str, str]]:
    """A pool, and sessions with a partner each, both windows open; each session's customer
    number and the proxy number they write to."""
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    customers = harness.sessions_with_partners(sessions)
    connections.close_all()
    return customers


def _posts(customers, count: int) -> list[tuple[str, bytes]]:
    """(text, signed request) for each message, spread over the conversations."""
    posts = []
    for n in range(count):
        conversation = n % len(customers)
        phone, number = customers[conversation]
        text = f"S{conversation} #{n // len(customers):05d}"
        item = {
            "from": phone.lstrip("+"),
            "id": f"wamid.e2e.{n}.{time.time_ns()}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": text},
        }
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": number},
            "contacts": [{"profile": {"name": "C"}, "wa_id": phone.lstrip("+")}],
            "messages": [item],
        }
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}],
            }
        ).encode()
        signature = (
            "sha256=" + hmac.new(harness.APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        )
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        posts.append((text, harness.http_post(PATH, body, headers)))
    return posts


def _post_all(port: int, posts, rate: int) -> dict[str, float]:
    """Post everything at `rate`; when each text was acknowledged."""
    answered = harness.open_loop(port, PATH, [request for _, request in posts], rate)
    if answered.errors:
        print(f"{answered.errors} posts were not acknowledged")
    # The open loop answers in order of sending closely enough: stamp by due time + latency.
    start = time.perf_counter() - answered.elapsed
    return {
        text: start + index / rate + latency
        for index, ((text, _), latency) in enumerate(zip(posts, answered.seconds, strict=False))
    }


def _report(posts, posted: dict[str, float], graph: harness.FakeGraph, started: float, done: float):
    received = graph.received
    texts = [text for text, _ in posts]
    sent = {}
    duplicated = 0
    for at, text in received:
        if text in sent:
            duplicated += 1
        sent.setdefault(text, at)
    lost = [text for text in texts if text not in sent]
    latencies = sorted(
        sent[text] - posted[text] for text in texts if text in sent and text in posted
    )
    # Posts run concurrently, so two of one conversation may be stored in the other order
    # than they were posted: what the relay must keep is the order they were stored in.
    stored = _stored_order()
    crossed = _reordered([(0, text) for text in stored])
    reordered = _reordered(received, expected=stored)
    last = max(at for at, _ in received) if received else done
    rate = len(sent) / (last - started) if received else 0
    print(
        f"relay end to end: {len(sent)} of {len(texts)} messages in {last - started:.1f} s: "
        f"{rate:.0f} msg/s"
    )
    if latencies:
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(
            f"post -> copy sent: p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms"
        )
    print(f"lost {len(lost)}, duplicated {duplicated}, out of order {reordered}")
    if crossed:
        print(f"({crossed} posts were stored after a later post of their conversation)")


def _stored_order() -> list[str]:
    """The texts in the order the webhook stored them."""
    from relay.models import WebhookPayload

    texts = []
    for payload in WebhookPayload.objects.order_by("id"):
        value = json.loads(payload.body)["entry"][0]["changes"][0]["value"]
        texts.append(value["messages"][0]["text"]["body"])
    return texts


def _reordered(received, expected: list[str] | None = None) -> int:
    """Messages that came after a later one of their conversation (later in `expected`, by
    default in the order they were posted)."""
    rank = {text: index for index, text in enumerate(expected)} if expected else None
    last_seen: dict[str, object] = {}
    wrong = 0
    for _, text in received:
        conversation, number = text.split(" #")
        position = rank.get(text, -1) if rank else number
        if conversation in last_seen and last_seen[conversation] > position:
            wrong += 1
        last_seen[conversation] = max(position, last_seen.get(conversation, position))
    return wrong


if __name__ == "__main__":
    main()
