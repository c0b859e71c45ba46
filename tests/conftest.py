import os
import shutil

import pytest
from django.test import Client

from tests.relay.fake_graph import FakeGraph


@pytest.fixture
def whatsapp_api(httpserver, settings) -> FakeGraph:
    """A fake Graph API on 127.0.0.1; the relay's WHATSAPP_API_BASE points at it."""
    settings.WHATSAPP_API_BASE = httpserver.url_for("/v25.0")
    settings.RELAY_PROVIDER = "whatsapp"
    graph = FakeGraph(httpserver)
    yield graph
    httpserver.clear()


@pytest.fixture(autouse=True)
def fresh_cache():
    """The cache holds the API's rate-limit counters: each test starts from none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def clock(time_machine):
    """The clock, stopped at the current time: a test moves it on with clock.shift(...)
    instead of sleeping or back-dating rows."""
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Runs what would be queued after commit, as the worker would (tasks are inline in tests)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def pytest_sessionstart(session) -> None:
    """CI must test against PostgreSQL, never silently against SQLite."""
    import os

    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("CI") == "true" and "postgresql" not in engine:
        pytest.exit(f"CI runs the tests on PostgreSQL; DATABASE_URL gives {engine}", returncode=1)


def at_the_same_instant(*calls) -> list:
    """Runs each call in its own thread, with its own database connection, all released
    together; returns what each returned (or raised), in order. Needs PostgreSQL and
    `django_db(transaction=True)`: SQLite takes one writer at a time."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # handed back to the test, which asserts on it
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def skip_unless_postgresql() -> None:
    """Concurrency tests need real concurrent transactions; CI runs them on PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite takes one writer at a time)")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have Chromium (.ci/run installs Debian's chromium package)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def staff_cookie(live_server, admin_user) -> dict:
    client = Client()
    client.force_login(admin_user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def migrated_rows() -> None:
    """The rows the data migrations make (workflows, default commands, the SLA cursor), made
    again: a transactional test's database is emptied after it, so the next one lacks them."""
    import importlib

    from django.apps import apps

    for module, function in (
        ("routing.migrations.0003_demo_workflows", "create"),
        ("routing.migrations.0005_workflow_status_words", "words"),
        ("routing.migrations.0006_workflow_waiting_statuses", "waiting"),
        ("routing.migrations.0007_workflow_success_status", "success"),
        ("relay.migrations.0023_default_commands", "create"),
        ("relay.migrations.0025_routing_command", "create"),
        ("relay.migrations.0027_more_default_commands", "create"),
        ("relay.migrations.0030_slots_command", "create"),
        ("sla.migrations.0004_timeline_cursor_row", "create"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)
