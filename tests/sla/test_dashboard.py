"""The supervisor dashboard: for supervisors only, the booking seed's figures as tiles and
charts (drawn by the vendored chart library, nothing from a CDN), the clocks at risk, the
breaches, the ROI estimate as the seeds compute it, and the same figures as CSV."""

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from routing.models import Agent
from sla.kpis import session_facts
from sla.models import RoiSettings, SlaClock
from sla.roi import roi_estimate
from tests.sla.conftest import MONDAY

DAY = MONDAY.date()
PERIOD = {"workflow": "booking", "start": str(DAY), "end": str(DAY)}


@pytest.fixture
def supervisor(client, django_user_model):
    user = django_user_model.objects.create_user("lead", password="pw")
    Agent.objects.create(user=user, supervisor=True)
    client.force_login(user)
    return client


def test_someone_signed_out_is_sent_to_sign_in(client, db):
    answer = client.get("/dashboard/")

    assert answer.status_code == 302 and answer["Location"] == "/accounts/login/?next=/dashboard/"
    assert client.get("/accounts/login/").status_code == 200


def test_an_agent_who_is_not_a_supervisor_is_refused(client, django_user_model):
    agent = django_user_model.objects.create_user("asha")
    Agent.objects.create(user=agent)
    client.force_login(agent)

    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/kpis.csv").status_code == 403


def test_the_booking_seeds_figures_as_tiles_and_charts(supervisor, three_bookings):
    page = supervisor.get("/dashboard/", PERIOD)

    assert page.status_code == 200
    html = page.text
    for label in ("Time to confirmed", "First contact resolution", "Coordination errors"):
        assert label in html
    assert "1 h 10" in html  # the median time to confirmation: 70 minutes
    assert "50 %" in html  # first contact resolution
    charts = json.loads(re.search(r'id="chart-data"[^>]*>(.*?)</script>', html, re.S)[1])
    assert charts["weekly"]["labels"] == [str(DAY)]  # Monday's week
    assert charts["weekly"]["series"]["time_to_confirmation"] == [70.0]
    assert charts["per_partner"] == {
        "labels": ["loc-a", "loc-b"],
        "values": [40.0, 100.0],
        "title": "Time to confirmed (median, minutes)",
    }
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert not re.search(r'src="https?://', html)  # the machines may be offline


def test_clocks_at_risk_and_breaches_are_listed(supervisor, three_bookings, policy_clocks):
    page = supervisor.get("/dashboard/", PERIOD).text

    at_risk = page[page.index("At risk now") : page.index("Breaches of the period")]
    assert "BK-1" not in at_risk and "BK-3" in at_risk  # BK-1 is closed; BK-3 due soon
    breaches = page[page.index("Breaches of the period") : page.index("Return on investment")]
    assert "BK-2" in breaches and "partner loc-b" in breaches


@pytest.fixture
def policy_clocks(three_bookings):
    _, b, c = three_bookings
    version = _version()
    SlaClock.objects.create(
        session=c,
        clock="partner_ack",
        version=version,
        started_at=MONDAY,
        due_at=MONDAY + timedelta(days=400),
        warns_at=MONDAY,
        warned_at=MONDAY,
        state="warned",
    )
    SlaClock.objects.create(
        session=b,
        clock="confirmation",
        version=version,
        started_at=MONDAY,
        due_at=MONDAY + timedelta(minutes=30),
        breached_at=MONDAY + timedelta(minutes=30),
        breached_by="partner",
        breached_by_key="loc-b",
        state="breached",
    )


def _version():
    from sla.services import policy_create

    return policy_create(name="p", workflow="booking", targets={"confirmation": 1800}).current


def test_the_roi_estimate_as_the_seeds_compute_it(three_bookings):
    settings = RoiSettings(
        value_per_success=Decimal(500),
        baseline_success_rate=0.3,
        cost_of_error=Decimal(200),
        baseline_error_rate=1.0,
        cost_of_delay_per_day=Decimal(100),
        baseline_days_to_success=1.0,
        licence_cost_per_month=Decimal(15),
        licences=2,
    )
    facts = session_facts(start=DAY, end=DAY, workflow="booking")

    estimate = roi_estimate(settings, facts, days=30)

    # 3 sessions, 2 successes (median 70 min to success), 1 of them undone later.
    assert [line.amount for line in estimate["lines"]] == [
        Decimal("550.00"),  # (2 − 0.3 × 3) × 500
        Decimal("200.00"),  # (1.0 × 2 − 1) × 200
        Decimal("190.28"),  # (1 − 70 / 1440) days × 2 × 100
        Decimal("-30.00"),  # 2 licences × 15 for a month
    ]
    assert estimate["net"] == Decimal("910.28")


def test_the_page_shows_the_roi_once_an_admin_set_its_values(supervisor, three_bookings):
    assert "ROI settings" in supervisor.get("/dashboard/", PERIOD).text  # asks for them
    RoiSettings.objects.create(workflow="booking", value_per_success=Decimal(500))

    page = supervisor.get("/dashboard/", PERIOD).text

    assert "New successful bookings × value" in page and "1000.00 USD" in page  # 2 × 500


def test_the_csv_export_gives_the_apis_figures(supervisor, api, three_bookings):
    exported = supervisor.get("/dashboard/kpis.csv", {**PERIOD, "group_by": "partner"})
    answered = api.get(
        "/api/v1/kpis/",
        {
            "workflow": "booking",
            "from": str(DAY),
            "to": str(DAY),
            "group_by": "partner",
            "format": "csv",
        },
    )

    assert exported["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert rows == list(csv.DictReader(io.StringIO(answered.content.decode())))
    assert {row["group"] for row in rows} == {"loc-a", "loc-b"}
