"""The inbox as agents use it, in a real headless Chromium: log in, filter, open a thread,
reply, run a command picked from the autocomplete, forward an edited held message, see a
message written on the phone simulator arrive without reloading, and see a second agent
viewing the same thread. The README's screenshots come from here (SCREENSHOTS=1)."""

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from relay.models import Message, RelaySession
from relay.services.webhooks import webhooks_process_due
from sla.engine import SETTLED_AFTER, clocks_follow_timeline
from sla.services import policy_create
from tests.conftest import migrated_rows, skip_unless_postgresql
from tests.inbox.conftest import agent_user
from tests.inbox.test_list import inbound
from tests.relay.conftest import open_windows
from tests.relay.factories import partner_with_contact

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT = 10_000  # ms: a few polls


def shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))


def watched(page, live_server) -> list[str]:
    """Collects what went wrong on the page: refused requests, script errors, and anything
    fetched from outside the server (the pages must work offline)."""
    problems: list[str] = []
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.status not in (409, 422)
            else None
        ),
    )  # noqa: E501
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "request", lambda r: None if r.url.startswith(live_server.url) else problems.append(r.url)
    )
    return problems


def log_in(context, live_server, username: str):
    page = context.new_page()
    problems = watched(page, live_server)
    page.goto(f"{live_server.url}/accounts/login/?next=/inbox/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    return page, problems


def off_the_loop(call):
    """Runs `call` (database work) in a thread of its own, its connection closed after:
    Playwright's sync API keeps an event loop running in the test's thread, which Django
    takes for an async context."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run():
        try:
            return call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def desk_sessions(settings, open_session):
    """Two bookings and a mediated jewellery inquiry with a message held for an agent."""
    settings.RELAY_PROVIDER = "console"
    migrated_rows()
    from routing.models import Team

    desk = Team.objects.create(slug="desk", name="Desk")
    targets = {"partner_ack": 3600, "confirmation": 1800}
    policy_create(name="Coworking booking", workflow="booking", targets=targets)
    booking = open_session("BK-1042", team=desk)
    other = open_session("BK-1043", customer="+14155550777", team=desk)
    workshop = partner_with_contact("+393400000003", code="workshop", name="Workshop Platinum")
    inquiry = open_session(
        "IN-7", customer="+447700900555", partner=workshop, team=desk,
        workflow="bespoke-inquiry", mode="mediated",
    )  # fmt: skip
    for session in (booking, other, inquiry):
        open_windows(session)
    RelaySession.objects.filter(pk=booking.pk).update(booking_status="requested")
    inbound(booking, "Hello! Is the meeting room free tomorrow at 10?")
    inbound(inquiry, "Price for a platinum ring? Call me at 07700 900555", status="awaiting_agent")
    clocks_follow_timeline(now=timezone.now() + SETTLED_AFTER)
    agent_user("alice", desk)
    agent_user("bob", desk)
    return booking, other, inquiry


@pytest.mark.django_db(transaction=True)
def test_an_agent_works_a_thread(live_server, desk_sessions, request):
    booking, _, inquiry = desk_sessions
    browser = request.getfixturevalue("browser")  # last: after the database work
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page, problems = log_in(context, live_server, "alice")

    # Filter: only the jewellery inquiry is in the bespoke workflow.
    page.get_by_text("Filters and sort").click()
    page.get_by_label("Workflow").select_option("bespoke-inquiry")
    rows = page.locator("a[data-row]")
    rows.filter(has_text="BK-1042").wait_for(state="detached")
    assert rows.count() == 1 and "IN-7" in rows.first.inner_text()
    page.get_by_label("Workflow").select_option("")
    rows.filter(has_text="BK-1042").wait_for()

    # j moves to the first row; Enter opens it.
    page.locator("body").press("j")
    assert page.evaluate("document.activeElement.dataset.row !== undefined")
    page.get_by_role("link", name=re.compile("BK-1042")).click()
    page.get_by_role("heading", name="BK-1042").wait_for()
    assert "Hello! Is the meeting room free" in page.locator("#transcript").inner_text()

    # Reply to the partner: r focuses the box.
    page.locator("body").press("r")
    page.keyboard.type("Yes, room 3 is free at 10:00.")
    page.locator("label.tab", has_text="To the partner").click()
    assert page.get_by_role("radio", name=re.compile("To the partner")).is_checked()
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator("#transcript").get_by_text("Yes, room 3 is free at 10:00.").wait_for()
    reply = off_the_loop(
        lambda: Message.objects.select_related("participant").get(session=booking, origin="api")
    )
    assert reply.participant.role == "partner"

    # A command picked from the autocomplete: / focuses the command box.
    page.locator("body").press("/")
    page.keyboard.type("conf")
    option = page.get_by_role("option", name=re.compile("confirmbooking"))
    option.click()
    assert page.get_by_role("combobox", name="Command").input_value() == "/confirmbooking BK-1042"
    page.get_by_role("button", name="Run").click()
    page.get_by_role("status").filter(has_text="done:").wait_for()
    page.locator("#facts").get_by_text("confirmed", exact=True).wait_for()
    off_the_loop(booking.refresh_from_db)
    assert booking.booking_status == "confirmed"
    shot(page, "inbox.png")

    # The held inquiry: edited (the phone number out), then forwarded.
    page.goto(f"{live_server.url}/inbox/sessions/{inquiry.pk}/")
    held = page.get_by_role("form", name=re.compile("Held message"))
    held.get_by_label("Edit before forwarding").fill("Price for a platinum ring?")
    held.get_by_role("button", name="Forward").click()
    held.wait_for(state="detached")
    copy = off_the_loop(
        lambda: Message.objects.select_related("participant").get(session=inquiry, origin="relayed")
    )
    assert copy.body == "Price for a platinum ring?" and copy.participant.role == "partner"
    assert problems == []


@pytest.mark.django_db(transaction=True)
def test_live_messages_presence_and_a_narrow_window(
    live_server, desk_sessions, staff_cookie, request
):
    # The worker writes while two pages poll: SQLite's shared in-memory test database locks
    # whole tables for that; CI runs it on PostgreSQL.
    skip_unless_postgresql()
    booking, _, _ = desk_sessions
    browser = request.getfixturevalue("browser")
    alice_context = browser.new_context(viewport={"width": 1400, "height": 900})
    page, problems = log_in(alice_context, live_server, "alice")
    page.goto(f"{live_server.url}/inbox/sessions/{booking.pk}/")

    # Bob opens the same thread: Alice sees him there.
    bob_context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    bob, bob_problems = log_in(bob_context, live_server, "bob")
    bob.goto(f"{live_server.url}/inbox/sessions/{booking.pk}/")
    page.get_by_text("Also viewing: bob").wait_for(timeout=WAIT)
    # In a narrow window the thread stands alone, with a way back to the list.
    assert not bob.locator(".inbox-list").is_visible()
    assert bob.get_by_role("link", name="← Sessions").is_visible()
    assert bob.get_by_role("button", name="Send", exact=True).is_visible()
    shot(bob, "thread-phone.png")

    # The customer writes on the phone simulator; the worker handles it; no reload.
    simulator_context = browser.new_context(viewport={"width": 1280, "height": 900})
    simulator_context.add_cookies([staff_cookie])
    phone = simulator_context.new_page()
    phone.goto(f"{live_server.url}/simulator/")
    phone.get_by_role("link", name=re.compile("Customer · BK-1042")).click()
    phone.get_by_placeholder("Message").fill("Can we make it 11:00 instead?")
    phone.get_by_role("button", name="Send", exact=True).click()
    phone.get_by_text("Can we make it 11:00 instead?").wait_for()
    shot(phone, "simulator.png")
    off_the_loop(lambda: webhooks_process_due(limit=10))  # as the worker would
    page.locator("#transcript").get_by_text("Can we make it 11:00 instead?").wait_for(timeout=WAIT)
    shot(page, "thread.png")
    assert problems == [] and bob_problems == []


@pytest.mark.django_db(transaction=True)
def test_the_demo_inbox_for_the_readme(live_server, settings, request):
    """The demo as a new user sees it: one session of each workflow."""
    settings.DEBUG, settings.RELAY_PROVIDER = True, "console"
    migrated_rows()
    call_command("load_demo", stdout=io.StringIO())
    inquiry = RelaySession.objects.get(workflow="bespoke-inquiry")
    client = Client()
    assert client.login(username="supervisor", password="supervisor")
    browser = request.getfixturevalue("browser")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    problems = watched(page, live_server)
    page.goto(f"{live_server.url}/inbox/sessions/{inquiry.pk}/")
    assert page.locator("a[data-row]").count() == 4
    page.get_by_role("form", name=re.compile("Quote 1200")).wait_for()
    assert "[number hidden]" in page.locator("#transcript").inner_text()
    shot(page, "inbox-demo.png")
    assert problems == []
