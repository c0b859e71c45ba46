"""Slash commands: one service, from WhatsApp and the API; a command is never relayed, a
refusal changes nothing and says how to write it, and each run is on the timeline."""

import pytest

from relay.choices import EventKind, MessageStatus
from relay.commands.service import command_problems
from relay.models import Command, Message, RelaySession
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write
from tests.relay.texts import english


@pytest.fixture
def booking(session):
    """A coworking booking, requested, whose two sides wrote a moment ago."""
    RelaySession.objects.filter(pk=session.pk).update(booking_status="requested")
    session.refresh_from_db()
    return session


def run(api, session, text: str):
    return api.post(f"/api/v1/sessions/{session.pk}/commands/", {"text": text}, format="json")


def status_of(session) -> str:
    session.refresh_from_db()
    return session.booking_status


class TestThroughTheApi:
    def test_confirmbooking_confirms_and_tells_the_member(
        self, whatsapp_api, api, booking, run_tasks
    ):
        answer = run_tasks(run, api, booking, "/confirmbooking BK-1001")

        assert answer.status_code == 200
        assert answer.json() == {"ok": True, "reply": "done: booking BK-1001 is now confirmed"}
        assert status_of(booking) == "confirmed"
        assert whatsapp_api.texts_to(CUSTOMER) == [
            english("booking_now", ref="BK-1001", status="confirmed")
        ]
        kinds = list(booking.timeline.values_list("kind", flat=True))
        assert EventKind.BOOKING_STATUS_CHANGED in kinds and EventKind.COMMAND_RUN in kinds

    @pytest.mark.parametrize(
        "text, reason",
        [
            ("/nosuch", "there is no command /nosuch; here you can use: /close, /confirmbooking"),
            ("/confirmbooking BK-9", "this conversation is about BK-1001, not BK-9"),
            ("/confirmbooking BK-1 BK-2", "'BK-2' was not expected"),
            ("/finalcheck", "a booking that is requested cannot become completed"),
            ("/tag", "the text is missing"),
            ("confirm it", "a command starts with /"),
        ],
    )
    def test_a_refusal_says_what_is_wrong_and_changes_nothing(self, api, booking, text, reason):
        answer = run(api, booking, text)

        assert answer.status_code == 400
        assert answer.json()["ok"] is False and reason in answer.json()["reply"]
        assert status_of(booking) == "requested" and booking.tags == []
        assert not booking.timeline.filter(kind=EventKind.COMMAND_RUN).exists()
        assert not Message.objects.filter(direction="out").exists()

    def test_a_wrong_command_says_how_to_write_it(self, api, booking):
        reply = run(api, booking, "/confirmbooking BK-1 BK-2").json()["reply"]

        assert reply.endswith("Write it like this: /confirmbooking [booking_ref]")

    def test_names_and_aliases_in_any_case(self, api, booking):
        assert run(api, booking, "/CONFIRM").status_code == 200
        assert status_of(booking) == "confirmed"

    def test_a_command_for_another_workflow_is_not_allowed_here(self, api, booking):
        RelaySession.objects.filter(pk=booking.pk).update(workflow="export-feedback")

        answer = run(api, booking, "/finalcheck")

        assert answer.status_code == 400 and "cannot be used here" in answer.json()["reply"]

    def test_tag_and_close(self, api, booking):
        assert run(api, booking, "/tag AV setup").status_code == 200
        assert run(api, booking, "/close").status_code == 200

        booking.refresh_from_db()
        assert booking.tags == ["AV setup"] and booking.status == "closed"
        assert booking.timeline.get(kind=EventKind.SESSION_TAGGED).detail["tag"] == "AV setup"


class TestOnWhatsApp:
    def test_a_partners_command_runs_is_not_relayed_and_is_answered_in_private(
        self, whatsapp_api, booking, post_webhook
    ):
        number = participant(booking, "partner").proxy_number

        write(post_webhook, PARTNER, number, body="/ConfirmBooking")

        assert status_of(booking) == "confirmed"
        assert whatsapp_api.texts_to(CUSTOMER) == [
            english("booking_now", ref="BK-1001", status="confirmed")
        ]
        assert whatsapp_api.texts_to(PARTNER) == [
            english("command_done", name="confirmbooking", ref="BK-1001")
        ]
        assert Message.objects.get(direction="in").status == MessageStatus.COMMAND

    def test_a_customer_may_not_confirm_and_nothing_is_relayed(
        self, whatsapp_api, booking, post_webhook
    ):
        number = participant(booking, "customer").proxy_number

        write(post_webhook, CUSTOMER, number, body="/confirmbooking")

        assert status_of(booking) == "requested"
        assert whatsapp_api.texts_to(CUSTOMER) == [
            english("command_not_allowed", name="confirmbooking")
        ]
        assert whatsapp_api.texts_to(PARTNER) == []

    def test_an_unknown_command_is_answered_with_those_usable(
        self, whatsapp_api, booking, post_webhook
    ):
        number = participant(booking, "partner").proxy_number

        write(post_webhook, PARTNER, number, body="/nosuch please")

        assert whatsapp_api.texts_to(PARTNER) == [
            english(
                "command_unknown",
                name="nosuch",
                commands="/confirmbooking, /finalcheck, /followup, /noshow, /quote, /QUOTE_24HRS",
            )
        ]
        assert whatsapp_api.texts_to(CUSTOMER) == []

    def test_a_text_that_merely_starts_with_a_slash_is_relayed(
        self, whatsapp_api, booking, post_webhook
    ):
        number = participant(booking, "customer").proxy_number

        write(post_webhook, CUSTOMER, number, body="/ not sure about Tuesday")

        assert whatsapp_api.texts_to(PARTNER) == ["/ not sure about Tuesday"]


def test_the_admin_refuses_a_command_whose_alias_names_another(admin_client, db):
    form = {
        "name": "ok",
        "aliases": '["confirm"]',
        "action": "close",
        "value": "",
        "arguments": "[]",
        "used_by": '["agent"]',
        "workflows": "[]",
        "active": "on",
    }

    page = admin_client.post("/admin/relay/command/add/", form)

    assert page.status_code == 200 and "already names /confirmbooking" in page.content.decode()
    assert not Command.objects.filter(name="ok").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, field, problem",
    [
        ({"action": "set_status"}, "value", "the status it sets"),
        ({"action": "quote", "arguments": ["duration"]}, "arguments", "needs money"),
        ({"action": "quote", "arguments": ["money?", "duration"]}, "arguments", "not optional"),
        ({"action": "quote", "arguments": ["money"]}, "value", "a lead time"),
        ({"action": "quote", "arguments": ["money"], "value": "soon"}, "value", "a lead time"),
        ({"action": "reroute"}, "arguments", "needs partner_code"),
        ({"action": "offer_slots", "arguments": ["money"]}, "arguments", "needs text"),
        ({"action": "note", "arguments": ["colour"]}, "arguments", "a list of kinds"),
        ({"action": "close", "used_by": ["boss"]}, "used_by", "a list among"),
        ({"action": "close", "aliases": ["confirm"]}, "aliases", "already names /confirmbooking"),
    ],
)
def test_an_admin_is_told_what_is_wrong_with_a_command(fields, field, problem):
    written = {"name": "mine", "used_by": ["agent"], **fields}

    assert problem in command_problems(written)[field]


@pytest.mark.django_db
def test_the_shipped_commands_are_all_well_formed():
    for command in Command.objects.all():
        fields = {name: getattr(command, name) for name in ("name", "aliases", "action", "value")}
        fields |= {"arguments": command.arguments, "used_by": command.used_by}
        assert command_problems(fields, instance=command) == {}, command


def test_the_customer_is_told_in_the_workflows_words(api, whatsapp_api, booking, run_tasks):
    RelaySession.objects.filter(pk=booking.pk).update(booking_status="confirmed")

    run_tasks(run, api, booking, "/noshow")

    assert whatsapp_api.texts_to(CUSTOMER) == [
        english("booking_now", ref="BK-1001", status="missed (nobody came)")
    ]
