"""Benchmark: the time routing takes to place one message, against 200 active rules (keywords,
patterns, message types, hours) and a reference table of 100,000 codes, on a throwaway test
database. The message matches only the last rule, so every rule is tried. Prints the median
and p95 per message; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_routing [--rules 200] [--references 100000]

Uses DATABASE_URL like the tests (SQLite when unset).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from django.db import connection
from django.test.utils import setup_test_environment

from relay.choices import MessageType
from routing.conditions import Sample
from routing.models import Rule
from routing.rules import rules_run
from routing.services.partners import partner_create
from routing.services.references import references_import

ROUNDS = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--references", type=int, default=100_000)
    options = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(options.rules, options.references)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(rule_count: int, reference_count: int) -> None:
    for code in ("factory-a", "factory-b"):
        partner_create(code=code, name=code, kind="factory", contacts=[])
    lines = ["code,partner"] + [f"PO{n},factory-{'ab'[n % 2]}" for n in range(reference_count)]
    references_import("\n".join(lines))
    Rule.objects.bulk_create(_rules(rule_count))
    sample = {"text": "PO77777 stitching defect on SKU-A, see photo", "type": MessageType.IMAGE}

    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        decision = rules_run(Sample(**sample))
        timings.append((time.perf_counter() - started) * 1000)
    assert decision.placement.partner is not None and decision.placement.external_ref == "PO77777"
    timings.sort()
    print(
        f"routing one message against {rule_count} rules and {reference_count} references "
        f"({connection.vendor}): median {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms over {ROUNDS} messages"
    )


def _rules(count: int) -> list[Rule]:
    """`count` rules of every kind that do not match the sample, then the one that does."""
    kinds = [
        lambda n: [{"kind": "keyword", "value": f"desk{n}, room{n}"}],
        lambda n: [{"kind": "regex", "value": rf"(?P<ref>INV-{n}-\d+)"}],
        lambda n: [{"kind": "message_type", "value": "pdf"}, {"kind": "keyword", "value": "x"}],
        lambda n: [{"kind": "time", "value": "sat,sun 02:00-03:00", "timezone": "Asia/Kolkata"}],
        lambda n: [{"kind": "tag", "value": f"vip{n}"}],
    ]
    rules = [
        Rule(
            name=f"rule {n}",
            position=n,
            conditions=kinds[n % len(kinds)](n),
            actions=[{"kind": "add_tag", "value": f"t{n}"}],
        )
        for n in range(count - 1)
    ]
    rules.append(
        Rule(
            name="orders to factories",
            position=count,
            stop=True,
            conditions=[{"kind": "regex", "value": r"(?P<ref>PO\d+)"}],
            actions=[
                {"kind": "partner_by_reference", "value": "ref"},
                {"kind": "contact_role", "value": "production"},
            ],
        )
    )
    return rules


if __name__ == "__main__":
    main()
