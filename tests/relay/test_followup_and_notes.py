"""/followup reminds the side that owes the next answer (by a template when their window has
closed); /note keeps a private note that no participant ever receives."""

import pytest

from relay.choices import EventKind, MessageStatus
from relay.models import Leg, Message, Note, RelaySession
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write
from tests.relay.texts import english

REMINDER = english("follow_up", ref="BK-1001")


def run(api, run_tasks, session, text: str):
    url = f"/api/v1/sessions/{session.pk}/commands/"
    return run_tasks(api.post, url, {"text": text}, format="json")


@pytest.mark.parametrize(
    "last_writer, owing, owing_phone",
    [(CUSTOMER, "partner", PARTNER), (PARTNER, "customer", CUSTOMER)],
)
def test_followup_reminds_whoever_owes_the_answer(
    api, run_tasks, whatsapp_api, post_webhook, session, last_writer, owing, owing_phone
):
    role = "customer" if last_writer == CUSTOMER else "partner"
    write(post_webhook, last_writer, participant(session, role).proxy_number, body="Any news?")
    whatsapp_api.sent.clear()

    answer = run(api, run_tasks, session, "/followup")

    assert answer.status_code == 200 and f"the {owing} was reminded" in answer.json()["reply"]
    assert whatsapp_api.texts_to(owing_phone) == [REMINDER]
    assert [p["to"] for p in whatsapp_api.sent] == [owing_phone]
    event = session.timeline.get(kind=EventKind.SESSION_FOLLOWED_UP)
    assert event.detail == {"role": owing} and event.actor == "api"


def test_nobody_wrote_yet_the_partner_owes_the_answer(api, run_tasks, whatsapp_api, session):
    run(api, run_tasks, session, "/followup")

    assert whatsapp_api.texts_to(PARTNER) == [REMINDER]


def test_outside_the_window_a_template_invites_them_back(api, run_tasks, whatsapp_api, session):
    Leg.objects.filter(contact=participant(session, "partner").contact).update(last_inbound_at=None)

    run(api, run_tasks, session, "/followup")

    assert whatsapp_api.texts_to(PARTNER) == []
    assert whatsapp_api.last_to(PARTNER)["type"] == "template"
    reminder = Message.objects.get(body=REMINDER)
    assert reminder.status == MessageStatus.HELD  # goes once they answer the invitation


def test_a_partner_follows_up_from_whatsapp(whatsapp_api, post_webhook, session):
    write(post_webhook, PARTNER, participant(session, "partner").proxy_number, body="/followup")

    assert whatsapp_api.texts_to(CUSTOMER) == [REMINDER]
    assert english("command_done", name="followup", ref="BK-1001") in whatsapp_api.texts_to(PARTNER)


def test_a_note_is_kept_and_sent_to_nobody(api, run_tasks, whatsapp_api, session):
    answer = run(api, run_tasks, session, "/note Parent prefers mornings")

    assert answer.status_code == 200
    assert whatsapp_api.sent == []
    notes = api.get(f"/api/v1/sessions/{session.pk}/notes/").json()
    assert [n["body"] for n in notes] == ["Parent prefers mornings"]
    event = session.timeline.get(kind=EventKind.NOTE_ADDED)
    assert event.detail == {"note": Note.objects.get().pk}  # the text is not on the timeline


def test_an_empty_note_is_refused(api, run_tasks, session):
    answer = run(api, run_tasks, session, "/note")

    assert answer.status_code == 400 and "the text is missing" in answer.json()["reply"]
    assert not Note.objects.exists()


def test_a_partner_cannot_write_notes(whatsapp_api, post_webhook, session):
    write(post_webhook, PARTNER, participant(session, "partner").proxy_number, body="/note hi")

    assert not Note.objects.exists()
    assert whatsapp_api.texts_to(PARTNER) == [english("command_not_allowed", name="note")]
    assert whatsapp_api.texts_to(CUSTOMER) == []


def test_followup_after_the_session_ended_is_refused(api, run_tasks, whatsapp_api, session):
    RelaySession.objects.filter(pk=session.pk).update(status="closed")

    answer = run(api, run_tasks, session, "/followup")

    assert answer.status_code == 400 and "the session has ended" in answer.json()["reply"]
    assert whatsapp_api.sent == []
    assert not session.timeline.filter(kind=EventKind.SESSION_FOLLOWED_UP).exists()
