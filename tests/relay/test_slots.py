"""Scheduling prompts (seed 001): a caregiver offers times, the parent picks one from a list;
the first valid pick is the appointment, reminders go before it; taken or past times cannot
be picked; new times move it; /noshow marks it missed. Each step on the timeline."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from relay.choices import EventKind, SlotStatus
from relay.exceptions import RelayError
from relay.models import Message, RelaySession, Reminder, Slot
from relay.services.slots import reminders_send, slot_times_read
from tests.relay.conftest import CUSTOMER, PARTNER, open_windows, participant, write
from tests.relay.texts import english

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 7 December, 09:00 UTC
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def interview(monday, session):
    RelaySession.objects.filter(pk=session.pk).update(
        workflow="childcare-interview", booking_status="matched"
    )
    session.refresh_from_db()
    return session


def caregiver_writes(post_webhook, session, text: str) -> None:
    write(post_webhook, PARTNER, participant(session, "partner").proxy_number, body=text)


def pick(post_webhook, session, slot, phone=CUSTOMER) -> None:
    role = "customer" if phone == CUSTOMER else "partner"
    reply = {"id": f"slot:{slot.pk}", "title": "x"}
    write(
        post_webhook,
        phone,
        participant(session, role).proxy_number,
        type="interactive",
        interactive={"type": "list_reply", "list_reply": reply},
    )


def slot_kinds(session) -> list[str]:
    return list(
        session.timeline.filter(
            kind__in=[k for k in EventKind if k.startswith("slot.")]
        ).values_list("kind", flat=True)
    )


class TestReadingTimes:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("Tue 10:00, Wed 2pm", [TUESDAY_10, datetime(2026, 12, 9, 14, 0, tzinfo=UTC)]),
            ("Mon 08:00", [datetime(2026, 12, 14, 8, 0, tzinfo=UTC)]),  # today's has passed
            ("today 17:30", [datetime(2026, 12, 7, 17, 30, tzinfo=UTC)]),
            ("tomorrow 9:15am", [datetime(2026, 12, 8, 9, 15, tzinfo=UTC)]),
            (
                "2026-12-10 12pm, Tue 10:00, tuesday 10:00",
                [TUESDAY_10, datetime(2026, 12, 10, 12, tzinfo=UTC)],
            ),
        ],
    )
    def test_days_and_times(self, text, expected):
        assert slot_times_read(text, zone="UTC", now=MONDAY) == expected

    def test_in_the_workflows_time_zone(self):
        [at] = slot_times_read("Tue 10:00", zone="Asia/Kolkata", now=MONDAY)

        assert at == datetime(2026, 12, 8, 4, 30, tzinfo=UTC)

    @pytest.mark.parametrize(
        "text, problem",
        [
            ("Tue", "is not a day and a time"),
            ("someday 10:00", "does not start with a day"),
            ("Tue 25:00", "is not a time"),
            ("Tue 13pm", "is not a time"),
            ("today 08:00", "has passed"),
            ("2026-12-01 10:00", "has passed"),
            (", ,", "no times were given"),
            (", ".join(f"2026-12-{d} 10:00" for d in range(10, 21)), "at most 10"),
        ],
    )
    def test_what_cannot_be_read_says_how_to_write_it(self, text, problem):
        with pytest.raises(RelayError, match=problem):
            slot_times_read(text, zone="UTC", now=MONDAY)


def test_offer_pick_confirm_and_reminders(monday, run_tasks, whatsapp_api, post_webhook, interview):
    caregiver_writes(post_webhook, interview, "/slots Tue 10:00, Wed 14:00")

    offered = whatsapp_api.last_to(CUSTOMER)
    assert offered["type"] == "interactive" and offered["interactive"]["type"] == "list"
    assert offered["interactive"]["body"]["text"] == english(
        "slots_offer", ref="BK-1001", zone="UTC"
    )
    rows = offered["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["Tue 8 Dec, 10:00", "Wed 9 Dec, 14:00"]
    interview.refresh_from_db()
    assert interview.booking_status == "scheduling"

    tuesday, wednesday = Slot.objects.order_by("starts_at")
    pick(post_webhook, interview, tuesday)

    told = english("slot_confirmed", ref="BK-1001", when="Tue 8 Dec, 10:00", zone="UTC")
    assert whatsapp_api.texts_to(CUSTOMER)[-1] == told
    assert whatsapp_api.texts_to(PARTNER)[-1] == told
    tuesday.refresh_from_db(), wednesday.refresh_from_db(), interview.refresh_from_db()
    assert (tuesday.status, wednesday.status) == (SlotStatus.CONFIRMED, SlotStatus.WITHDRAWN)
    assert interview.booking_status == "scheduled"
    assert [r.due_at for r in Reminder.objects.all()] == [
        TUESDAY_10 - timedelta(hours=24),
        TUESDAY_10 - timedelta(hours=1),
    ]
    assert slot_kinds(interview) == [EventKind.SLOTS_OFFERED, EventKind.SLOT_CONFIRMED]
    confirmed = interview.timeline.get(kind=EventKind.SLOT_CONFIRMED)
    assert confirmed.detail["reminders"] == 2 and confirmed.actor == "customer"

    # The second pick finds the appointment set: the first valid pick stands.
    pick(post_webhook, interview, wednesday)
    assert whatsapp_api.texts_to(CUSTOMER)[-1] == english("slot_taken")
    assert interview.timeline.get(kind=EventKind.SLOT_REFUSED).detail["reason"] == "taken"

    # Reminders go once each, when due; whoever's window has closed gets it after a template.
    monday.move_to(TUESDAY_10 - timedelta(hours=24))
    open_windows(interview)
    assert run_tasks(reminders_send) == 1 and run_tasks(reminders_send) == 0
    reminder = english("slot_reminder", ref="BK-1001", when="Tue 8 Dec, 10:00", zone="UTC")
    assert whatsapp_api.texts_to(CUSTOMER)[-1] == reminder
    assert whatsapp_api.texts_to(PARTNER)[-1] == reminder
    monday.move_to(TUESDAY_10 - timedelta(minutes=30))
    assert run_tasks(reminders_send) == 1
    assert Message.objects.filter(body=reminder).count() == 4
    assert interview.timeline.filter(kind=EventKind.REMINDER_SENT).count() == 2


def test_a_time_that_has_passed_cannot_be_picked(monday, whatsapp_api, post_webhook, interview):
    caregiver_writes(post_webhook, interview, "/slots today 10:00, Tue 10:00")
    today = Slot.objects.order_by("starts_at").first()
    monday.move_to(MONDAY + timedelta(hours=2))
    open_windows(interview)

    pick(post_webhook, interview, today)

    assert whatsapp_api.texts_to(CUSTOMER)[-1] == english("slot_past")
    today.refresh_from_db()
    assert today.status == SlotStatus.OFFERED and not Reminder.objects.exists()
    assert interview.timeline.get(kind=EventKind.SLOT_REFUSED).detail["reason"] == "past"


def test_a_time_the_caregiver_gave_another_family_is_taken(
    whatsapp_api, post_webhook, interview, open_session
):
    caregiver_writes(post_webhook, interview, "/slots Tue 10:00")
    other = open_session("BK-2002", customer="+14155550199")
    RelaySession.objects.filter(pk=other.pk).update(workflow="childcare-interview")
    Slot.objects.create(session=other, starts_at=TUESDAY_10, status=SlotStatus.CONFIRMED)

    pick(post_webhook, interview, Slot.objects.get(session=interview))

    assert whatsapp_api.texts_to(CUSTOMER)[-1] == english("slot_taken")
    assert not interview.slots.filter(status=SlotStatus.CONFIRMED).exists()


def test_new_times_move_the_appointment(whatsapp_api, post_webhook, interview):
    caregiver_writes(post_webhook, interview, "/slots Tue 10:00")
    pick(post_webhook, interview, Slot.objects.get())

    caregiver_writes(post_webhook, interview, "/slots Thu 11:00")

    old, new = Slot.objects.order_by("id")
    assert (old.status, new.status) == (SlotStatus.RESCHEDULED, SlotStatus.OFFERED)
    assert all(r.cancelled for r in old.reminders.all())
    interview.refresh_from_db()
    assert interview.booking_status == "scheduling"
    assert slot_kinds(interview)[-2:] == [EventKind.SLOT_RESCHEDULED, EventKind.SLOTS_OFFERED]
    assert "Thu 10 Dec, 11:00" in whatsapp_api.everything_sent_to(CUSTOMER)


def test_noshow_marks_the_appointment_missed(api, run_tasks, post_webhook, interview):
    caregiver_writes(post_webhook, interview, "/slots Tue 10:00")
    pick(post_webhook, interview, Slot.objects.get())

    caregiver_writes(post_webhook, interview, "/noshow")

    slot = Slot.objects.get()
    interview.refresh_from_db()
    assert slot.status == SlotStatus.MISSED and interview.booking_status == "no_show"
    assert all(r.cancelled for r in slot.reminders.all())
    assert interview.timeline.get(kind=EventKind.BOOKING_NO_SHOW).detail == {"slot": slot.pk}
    assert reminders_send(now=TUESDAY_10) == 0


@pytest.mark.parametrize(
    "text, problem",
    [("/slots", "the text is missing"), ("/slots Tue", "is not a day and a time")],
)
def test_slots_written_wrongly_change_nothing(whatsapp_api, post_webhook, interview, text, problem):
    caregiver_writes(post_webhook, interview, text)

    assert not Slot.objects.exists()
    assert whatsapp_api.texts_to(PARTNER) == [
        english("command_wrong", name="slots", usage="/slots <text>")
    ]
    assert whatsapp_api.texts_to(CUSTOMER) == []


def test_a_parent_cannot_offer_times(whatsapp_api, post_webhook, interview):
    write(
        post_webhook,
        CUSTOMER,
        participant(interview, "customer").proxy_number,
        body="/slots Tue 10:00",
    )

    assert not Slot.objects.exists()
    assert whatsapp_api.texts_to(CUSTOMER) == [english("command_not_allowed", name="slots")]


def test_an_agent_offers_times_through_the_api(api, run_tasks, whatsapp_api, interview):
    url = f"/api/v1/sessions/{interview.pk}/slots/"

    answer = run_tasks(api.post, url, {"starts_at": ["2026-12-08T11:00:00+01:00"]}, format="json")

    assert answer.status_code == 201 and answer.json()[0]["starts_at"] == "2026-12-08T10:00:00Z"
    assert whatsapp_api.last_to(CUSTOMER)["interactive"]["type"] == "list"
    assert [s["status"] for s in api.get(url).json()] == ["offered"]
    assert slot_kinds(interview) == [EventKind.SLOTS_OFFERED]


@pytest.mark.parametrize(
    "data, status",
    [
        ({"starts_at": []}, 400),
        ({"starts_at": ["soon"]}, 400),
        ({"starts_at": ["2026-12-01T10:00Z"]}, 422),
    ],
)
def test_times_given_wrongly_offer_nothing(api, run_tasks, whatsapp_api, interview, data, status):
    answer = run_tasks(api.post, f"/api/v1/sessions/{interview.pk}/slots/", data, format="json")

    assert answer.status_code == status
    assert not Slot.objects.exists() and whatsapp_api.sent == []
