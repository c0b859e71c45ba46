"""The booking system updates bookings by reference: applied through the same services,
both sides told in the workflow's words, an event out to subscribed CRMs; bad input is a 400
that changes nothing, and an Idempotency-Key makes a repeat change nothing twice."""

from datetime import UTC, datetime

import pytest

from crm_sync.models import IdempotencyKey, OutboxEvent
from relay.choices import Origin, SlotStatus
from relay.models import Message, RelaySession, TimelineEvent
from tests.relay.factories import partner_with_contact

URL = "/api/v1/bookings/BK-1001/"


@pytest.fixture
def booking(open_session, endpoint):
    session = open_session()
    RelaySession.objects.filter(pk=session.pk).update(booking_status="requested")
    return session


def told(session) -> list[str]:
    notices = Message.objects.filter(participant__session=session, origin=Origin.NOTICE)
    return sorted(f"{m.participant.role}: {m.body}" for m in notices)


def patch(api, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.patch(URL, body, format="json", **headers)


def test_a_cancelled_booking_is_told_to_both_sides_and_sent_to_the_crm(api, booking):
    answer = patch(api, {"status": "confirmed"})
    answer = patch(api, {"status": "cancelled"})

    assert answer.status_code == 200
    assert answer.json() | {"session_id": 0} == {
        "external_ref": "BK-1001",
        "session_id": 0,
        "workflow": "booking",
        "status": "cancelled",
        "partner": "loc-a",
        "starts_at": None,
        "live": True,
    }
    assert "customer: Hello! Your booking BK-1001 is now: cancelled." in told(booking)
    assert "partner: Hello! Your booking BK-1001 is now: cancelled." in told(booking)
    changes = OutboxEvent.objects.filter(type="booking.status_changed").order_by("pk")
    assert [(e.data["from"], e.data["to"]) for e in changes] == [
        ("requested", "confirmed"),
        ("confirmed", "cancelled"),
    ]
    assert TimelineEvent.objects.filter(kind="booking.status_changed").last().actor == "api"


def test_a_new_time_is_the_appointment_and_both_sides_are_told(api, booking):
    answer = patch(api, {"starts_at": "2027-01-05T10:30:00Z"})

    assert answer.status_code == 200 and answer.json()["starts_at"] == "2027-01-05T10:30:00Z"
    slot = booking.slots.get()
    assert (slot.status, slot.starts_at) == (
        SlotStatus.CONFIRMED,
        datetime(2027, 1, 5, 10, 30, tzinfo=UTC),
    )
    assert all("has a new time" in line for line in told(booking)) and len(told(booking)) == 2
    assert slot.reminders.count() == 2

    patch(api, {"starts_at": "2027-01-06T09:00:00Z"})
    assert list(booking.slots.order_by("pk").values_list("status", flat=True)) == [
        SlotStatus.RESCHEDULED,
        SlotStatus.CONFIRMED,
    ]


def test_another_partner_takes_the_booking(api, booking):
    partner_with_contact("+447700900777", code="loc-b", name="Harbour Desk")

    answer = patch(api, {"partner": "loc-b"})

    assert answer.status_code == 200 and answer.json()["partner"] == "loc-b"
    assert OutboxEvent.objects.filter(type="session.routed").exists()


@pytest.mark.parametrize(
    "body, field, problem",
    [
        ({"status": "teleported"}, "status", "not a status of Coworking booking"),
        ({"starts_at": "soon"}, "starts_at", "Datetime has wrong format"),
        ({"partner": "nobody"}, "partner", "does not exist"),
        ({"colour": "blue"}, "colour", "not a field of a booking update"),
        ({}, "non_field_errors", "at least one of"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_changes_nothing(api, booking, body, field, problem):
    events = TimelineEvent.objects.count()

    answer = patch(api, body, key="key-1")

    assert answer.status_code == 400 and problem in str(answer.json()[field])
    assert TimelineEvent.objects.count() == events
    assert not IdempotencyKey.objects.exists()  # a bad request may be sent again, fixed


def test_a_move_the_workflow_does_not_allow_is_refused(api, booking):
    answer = patch(api, {"status": "completed"})  # requested cannot become completed

    assert answer.status_code == 422 and "cannot become completed" in str(answer.json())
    booking.refresh_from_db()
    assert booking.booking_status == "requested"


def test_an_unknown_booking_is_404(api, db):
    assert api.patch("/api/v1/bookings/BK-404/", {"status": "x"}, format="json").status_code == 404


def test_a_repeat_with_the_same_key_changes_nothing_twice(api, booking):
    first = patch(api, {"status": "confirmed"}, key="update-77")
    again = patch(api, {"status": "confirmed"}, key="update-77")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert TimelineEvent.objects.filter(kind="booking.status_changed").count() == 1
    assert len(told(booking)) == 2  # told once


def test_the_same_key_with_another_request_is_422(api, booking):
    patch(api, {"status": "confirmed"}, key="update-78")

    answer = patch(api, {"status": "cancelled"}, key="update-78")

    assert answer.status_code == 422 and "another request" in str(answer.json())
    booking.refresh_from_db()
    assert booking.booking_status == "confirmed"


def test_the_same_key_while_the_first_still_runs_is_409(api, booking):
    first = patch(api, {"status": "confirmed"}, key="update-79")
    IdempotencyKey.objects.filter(key="update-79").update(status_code=None, answer=None)

    answer = patch(api, {"status": "confirmed"}, key="update-79")

    assert first.status_code == 200 and answer.status_code == 409
