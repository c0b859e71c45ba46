"""A booking's transcript: every message as passed on (redactions as markers), statuses,
commands and delivery ticks in order, by role and alias; as JSON, CSV and a printable page;
real numbers only for those allowed to see them."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from relay.models import RelaySession
from routing.models import Agent, Team
from routing.services.bookings import booking_status_set
from tests.relay.conftest import CUSTOMER, PARTNER, open_windows, participant, write

URL = "/api/v1/bookings/BK-1001/transcript/"


@pytest.fixture
def booking(open_session, post_webhook, whatsapp_api):
    session = open_session()
    RelaySession.objects.filter(pk=session.pk).update(booking_status="requested")
    open_windows(session)
    write(post_webhook, CUSTOMER, participant(session, "customer").proxy_number,
          body="Is 10:00 fine? Call me on +1 415 555 0999")  # fmt: skip
    write(post_webhook, PARTNER, participant(session, "partner").proxy_number, body="Yes, see you")
    booking_status_set(session=session, to="confirmed")
    return session


def test_the_record_in_order_with_redactions_as_markers(api, booking):
    answer = api.get(URL)

    assert answer.status_code == 200
    body = answer.json()
    entries = body["entries"]
    said = [(e["who"], e["what"]) for e in entries if e["kind"] == "message.received"]
    assert said[0][0] == "Customer · Sam" and said[1] == ("Partner · Ana", "Yes, see you")
    assert "Is 10:00 fine? Call me on" in said[0][1] and "0999" not in said[0][1]
    kinds = [e["kind"] for e in entries]
    assert kinds.index("message.redacted") < kinds.index("booking.status_changed")
    assert "booking requested → confirmed" in [e["what"] for e in entries]
    assert any(e["what"] == "sent to the partner" for e in entries)  # delivery ticks
    people = body["sessions"][0]["participants"]
    assert CUSTOMER not in str(body) and PARTNER not in str(body)  # an API key sees masks
    assert {p["alias"] for p in people} == {"Customer · Sam", "Partner · Ana"}


def test_the_same_record_as_csv(api, booking):
    answer = api.get(URL, {"format": "csv"})

    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert list(rows[0]) == ["at", "session_id", "kind", "who", "what"]
    assert len(rows) == len(api.get(URL).json()["entries"])
    assert "0999" not in answer.content.decode()


def test_an_unknown_booking_is_404(api, db):
    assert api.get("/api/v1/bookings/BK-404/transcript/").status_code == 404


def page_reader(client, django_user_model, *, supervisor=False, team=None):
    user = django_user_model.objects.create_user("reader")
    agent = Agent.objects.create(user=user, supervisor=supervisor)
    if team:
        agent.teams.add(team)
    client.force_login(user)
    return client


def test_the_printable_page_shows_numbers_only_to_those_allowed(client, django_user_model, booking):
    reader = page_reader(client, django_user_model, supervisor=True)
    page = reader.get("/bookings/BK-1001/transcript/")

    assert page.status_code == 200
    assert "Booking BK-1001" in page.text and "css/print.css" in page.text
    assert CUSTOMER not in page.text and "0999" not in page.text

    allowed = django_user_model.objects.get(username="reader")
    allowed.user_permissions.add(Permission.objects.get(codename="view_real_number"))
    assert CUSTOMER in reader.get("/bookings/BK-1001/transcript/").text


def test_an_agent_of_another_team_gets_404(client, django_user_model, booking):
    desk = Team.objects.create(slug="desk", name="Desk")
    night = Team.objects.create(slug="night", name="Night")
    RelaySession.objects.filter(pk=booking.pk).update(team=desk)

    reader = page_reader(client, django_user_model, team=night)

    assert reader.get("/bookings/BK-1001/transcript/").status_code == 404
    Agent.objects.get(user__username="reader").teams.add(desk)
    assert reader.get("/bookings/BK-1001/transcript/").status_code == 200


def test_someone_signed_out_is_sent_to_sign_in(client, booking):
    assert client.get("/bookings/BK-1001/transcript/").status_code == 302
