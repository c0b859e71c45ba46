"""How a booking reference maps to sessions: one per booking by default, so a booking that
comes back reopens its ended session; a workflow may ask for a new session each time."""

from relay.models import RelaySession
from routing.models import Workflow
from tests.relay.conftest import CUSTOMER
from tests.relay.factories import partner_with_contact

BOOKING = {
    "external_ref": "BK-1001",
    "workflow": "booking",
    "customer": {"name": "Sam", "phone": CUSTOMER},
    "partner": "loc-a",
}


def open_booking(api, **changes):
    return api.post("/api/v1/sessions/", BOOKING | changes, format="json")


def test_a_booking_that_comes_back_reopens_its_session(api, partner, pool):
    first = open_booking(api).json()
    api.post(f"/api/v1/sessions/{first['id']}/close/", {"reason": "done"}, format="json")

    again = open_booking(api)

    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert again.json()["live"] is True
    session = RelaySession.objects.get()
    assert session.timeline.filter(kind="session.reopened").count() == 1


def test_a_workflow_may_open_a_new_session_each_time(api, partner, pool):
    Workflow.objects.filter(slug="booking").update(sessions_per_booking="each")
    first = open_booking(api).json()
    api.post(f"/api/v1/sessions/{first['id']}/close/", {"reason": "done"}, format="json")

    again = open_booking(api)

    assert again.status_code == 201 and again.json()["id"] != first["id"]


def test_with_another_partner_it_is_a_new_session(api, partner, pool):
    partner_with_contact("+447700900777", code="loc-b", name="Harbour Desk")
    first = open_booking(api).json()
    api.post(f"/api/v1/sessions/{first['id']}/close/", {"reason": "done"}, format="json")

    again = open_booking(api, partner="loc-b")

    assert again.status_code == 201 and again.json()["id"] != first["id"]
