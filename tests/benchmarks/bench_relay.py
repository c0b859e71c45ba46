"""Benchmark: how fast the webhook acknowledges deliveries, and how fast the relay works
through them, on a throwaway test database. Prints numbers; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_relay [--messages 300]

Uses DATABASE_URL like the tests (SQLite when unset) and the console provider.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import setup_test_environment
from django.utils.module_loading import import_string
from django_q.conf import Conf

from relay import queue
from relay.models import MaskingPool, MessageTemplate, ProxyNumber, WebhookPayload
from relay.services.sessions import PartyInput, session_open
from relay.services.webhooks import webhook_process
from routing.services import PartnerContactInput, partner_create
from tests.relay import wa


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    count = parser.parse_args().messages
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with override_settings(RELAY_PROVIDER="console", ALLOWED_HOSTS=["testserver"]):
            run(count)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(count: int) -> None:
    session = _demo_session()
    number = session.participants.get(role="customer").proxy_number
    client = Client()
    latencies = []
    # Acknowledgement only: the worker's queue fills, nothing is processed yet.
    Conf.SYNC = False
    try:
        for i in range(count):
            item = wa.message("+14155550123", body=f"message {i}")
            body = wa.encode(wa.envelope(number.phone_number_id, messages=[item]))
            started = time.perf_counter()
            response = client.post(
                "/webhooks/whatsapp/",
                data=body,
                content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=wa.sign(body, settings.WHATSAPP_APP_SECRET),
            )
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            _progress("acknowledge", i + 1, count)
    finally:
        Conf.SYNC = True
    _report_latency(latencies)

    payload_ids = list(WebhookPayload.objects.values_list("id", flat=True))
    # The relay's own work, without the queue's per-task bookkeeping: tasks run in-process.
    queue.async_task = lambda path, *args: import_string(path)(*args)
    started = time.perf_counter()
    for i, payload_id in enumerate(payload_ids):
        webhook_process(payload_id=payload_id)
        _progress("relay", i + 1, len(payload_ids))
    elapsed = time.perf_counter() - started
    print(
        f"relay: {len(payload_ids)} inbound messages handled in {elapsed:.2f} s "
        f"({len(payload_ids) / elapsed:.0f}/s, {connection.vendor})"
    )


def _demo_session():
    template = MessageTemplate.objects.create(name="new_message_notice")
    pool = MaskingPool.objects.create(name="bench", notice_template=template)
    ProxyNumber.objects.create(pool=pool, e164="+15550001001", phone_number_id="1001")
    partner = partner_create(
        code="loc-a",
        name="Downtown Hub",
        kind="location",
        contacts=[PartnerContactInput(name="Ana", phone="+447700900123", role="manager")],
    )
    return session_open(
        external_ref="BK-1",
        workflow="booking",
        customer=PartyInput(name="Sam", phone="+14155550123"),
        partner=partner,
        pool=pool,
    )


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
