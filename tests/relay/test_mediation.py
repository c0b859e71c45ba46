"""Mediated mode: what a participant writes waits for an agent, who forwards it, forwards an
edit (the original kept), answers instead, or discards it with a reason; each on the
timeline. Through the API, against the fake Graph API."""

import pytest

from relay.choices import EventKind, MessageStatus, SessionMode
from relay.models import Message, RelaySession
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write


@pytest.fixture
def mediated(session):
    RelaySession.objects.filter(pk=session.pk).update(mode=SessionMode.MEDIATED)
    session.refresh_from_db()
    return session


@pytest.fixture
def held(mediated, post_webhook):
    """The customer wrote, with a phone number in it; it waits for an agent."""
    number = participant(mediated, "customer").proxy_number
    write(post_webhook, CUSTOMER, number, body="Can you set a sapphire? Call +44 7700 900456")
    return Message.objects.get(direction="in")


def act(api, run_tasks, message, what: str, **data):
    url = f"/api/v1/sessions/{message.session_id}/held/{message.pk}/{what}/"
    return run_tasks(api.post, url, data, format="json")


def kinds(session) -> list[str]:
    return list(session.timeline.values_list("kind", flat=True))


def test_a_message_waits_and_is_listed(api, whatsapp_api, held):
    answer = api.get(f"/api/v1/sessions/{held.session_id}/held/")

    assert held.status == MessageStatus.AWAITING_AGENT
    assert [m["id"] for m in answer.json()] == [held.pk]
    assert "7700" not in answer.json()[0]["body"]  # the API hides contact details too
    assert whatsapp_api.texts_to(PARTNER) == []


def test_forward_as_written_hides_the_number(api, run_tasks, whatsapp_api, held):
    answer = act(api, run_tasks, held, "forward")

    assert answer.status_code == 200
    [text] = whatsapp_api.texts_to(PARTNER)
    assert text.startswith("Can you set a sapphire? Call ") and "7700" not in text
    held.refresh_from_db()
    assert held.status == MessageStatus.RELAYED
    event = held.session.timeline.get(kind=EventKind.MESSAGE_FORWARDED)
    assert event.detail == {"edited": False} and event.actor == "api"


def test_forward_an_edit_keeps_the_original(api, run_tasks, whatsapp_api, held):
    act(api, run_tasks, held, "forward", text="Can you set a 2 ct sapphire?")

    assert whatsapp_api.texts_to(PARTNER) == ["Can you set a 2 ct sapphire?"]
    held.refresh_from_db()
    assert held.body == "Can you set a sapphire? Call +44 7700 900456"
    assert held.relays.get().body == "Can you set a 2 ct sapphire?"
    assert held.session.timeline.get(kind=EventKind.MESSAGE_FORWARDED).detail["edited"] is True


def test_answer_instead_goes_to_the_writer_only(api, run_tasks, whatsapp_api, held):
    act(api, run_tasks, held, "answer", text="Yes, we can. Which size?")

    assert whatsapp_api.texts_to(CUSTOMER) == ["Yes, we can. Which size?"]
    assert whatsapp_api.texts_to(PARTNER) == []
    held.refresh_from_db()
    assert held.status == MessageStatus.ANSWERED
    assert EventKind.MESSAGE_ANSWERED in kinds(held.session)


def test_discard_keeps_the_reason_and_sends_nothing(api, run_tasks, whatsapp_api, held):
    act(api, run_tasks, held, "discard", reason="asks for a direct line")

    assert whatsapp_api.sent == []
    held.refresh_from_db()
    assert held.status == MessageStatus.DISCARDED
    assert held.status_reason == "discarded: asks for a direct line"
    assert EventKind.MESSAGE_DISCARDED in kinds(held.session)


@pytest.mark.parametrize(
    "what, data, status, field",
    [
        ("discard", {}, 400, "reason"),
        ("answer", {}, 400, "text"),
        ("forward", {"text": "  "}, 400, "text"),
    ],
)
def test_bad_input_says_what_is_wrong_and_changes_nothing(
    api, run_tasks, whatsapp_api, held, what, data, status, field
):
    answer = act(api, run_tasks, held, what, **data)

    assert answer.status_code == status and field in answer.json()
    held.refresh_from_db()
    assert held.status == MessageStatus.AWAITING_AGENT and whatsapp_api.sent == []


def test_a_message_is_handled_once(api, run_tasks, whatsapp_api, held):
    act(api, run_tasks, held, "forward")

    again = act(api, run_tasks, held, "discard", reason="late")

    assert again.status_code == 422 and "not waiting for an agent" in again.json()["message"][0]
    assert len(whatsapp_api.texts_to(PARTNER)) == 1
    assert EventKind.MESSAGE_DISCARDED not in kinds(held.session)


def test_a_message_of_another_session_is_not_found_there(api, run_tasks, held, open_session):
    other = open_session("BK-2002", customer="+14155550199")

    url = f"/api/v1/sessions/{other.pk}/held/{held.pk}/forward/"
    answer = run_tasks(api.post, url, {}, format="json")

    assert answer.status_code == 404 and "has no message" in answer.json()["detail"]


def test_in_triage_it_must_be_routed_first(api, run_tasks, whatsapp_api, held):
    RelaySession.objects.filter(pk=held.session_id).update(partner=None)

    answer = act(api, run_tasks, held, "forward")

    assert answer.status_code == 422 and "route it to a partner" in answer.json()["detail"]
    assert whatsapp_api.sent == []
