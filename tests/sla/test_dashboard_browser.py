"""The dashboard as a supervisor sees it, in a real headless Chromium: its charts drawn by the
vendored library under the Content Security Policy, nothing refused, nothing fetched from
outside; the screenshot in the README comes from here."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from relay.models import RelaySession
from routing.services.bookings import booking_status_set
from sla.engine import clocks_scan
from sla.models import RoiSettings, SlaClock
from sla.services import policy_create
from tests.conftest import migrated_rows
from tests.relay.factories import partner_with_contact

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def week_of_bookings(open_session) -> None:
    migrated_rows()
    harbour = partner_with_contact("+447700900777", code="loc-b", name="Harbour Desk")
    version = policy_create(
        name="standard", workflow="booking", targets={"confirmation": 1800}
    ).current
    now = timezone.now()
    for n in range(6):
        session = open_session(
            f"BK-20{n}", customer=f"+1415555070{n}", **({"partner": harbour} if n % 2 else {})
        )
        RelaySession.objects.filter(pk=session.pk).update(
            booking_status="requested", created_at=now - timedelta(days=n, hours=n)
        )
        if n < 4:
            booking_status_set(session=session, to="confirmed")
        due = now + timedelta(minutes=10 * n - 15)
        SlaClock.objects.create(
            session=session,
            clock="confirmation",
            version=version,
            started_at=now - timedelta(hours=1),
            due_at=due,
            warns_at=due - timedelta(minutes=6),
        )
    clocks_scan()  # the two past due are breached, on the timeline
    RoiSettings.objects.create(
        workflow="booking", value_per_success=Decimal(500), baseline_success_rate=0.4
    )


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_draws_its_charts(live_server, settings, open_session, staff_cookie, request):
    settings.RELAY_PROVIDER = "console"
    week_of_bookings(open_session)
    browser = request.getfixturevalue("browser")  # last: after the database work
    context = browser.new_context(viewport={"width": 1280, "height": 1500})
    context.add_cookies([staff_cookie])
    page = context.new_page()
    refused, outside = [], []
    page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: outside.append(r.url) if live_server.url not in r.url else None)

    page.goto(f"{live_server.url}/dashboard/?workflow=booking")

    assert page.get_by_role("heading", name="Time to confirmed").is_visible()
    drawn = page.evaluate(
        "[...document.querySelectorAll('canvas')].map(c => Boolean(Chart.getChart(c)))"
    )
    assert drawn and all(drawn)
    assert page.locator("time.countdown.late").count() == 0  # the scan found both past due
    assert (
        page.locator("section", has_text="Breaches of the period").locator("tbody tr").count() == 2
    )
    assert refused == [] and outside == []
    if os.environ.get("SCREENSHOTS"):  # SCREENSHOTS=1 pytest ...: the README's pictures
        page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)
    context.close()
