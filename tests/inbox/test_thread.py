"""One thread in the inbox and what an agent does there: each action goes through the same
service as the API and WhatsApp commands, as the agent, and a refusal says what is wrong
beside the control, with nothing changed."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from relay.choices import EventKind, MessageStatus
from relay.models import Message, Note, Quote, RelaySession, TimelineEvent
from relay.timeline import timeline_record
from tests.inbox.conftest import logged_in
from tests.inbox.test_list import inbound

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def url(session, path: str = "") -> str:
    return f"/inbox/sessions/{session.pk}/{path}"


def test_the_thread_shows_who_wrote_what_to_whom(alice, desk_session):
    message = inbound(desk_session, "Call me on +14155550123 please")
    partner = desk_session.participants.get(role="partner")
    Message.objects.create(
        session=desk_session, participant=partner, contact=partner.contact,
        proxy_number=partner.proxy_number, direction="out", origin="relayed", type="text",
        body="Call me on [number hidden] please", status="failed", source=message,
        error_message="(#131047) Re-engagement message",
    )  # fmt: skip
    Note.objects.create(session=desk_session, body="VIP member", author=alice)
    page = logged_in(alice).get(url(desk_session)).content.decode()
    assert "Customer · Sam" in page and "→ Partner · Ana" in page
    assert "Call me on [number hidden] please" in page and "+14155550123" not in page
    assert "contact details hidden" in page
    assert "failed: (#131047) Re-engagement message" in page
    assert "Note · alice" in page and "VIP member" in page


def test_a_reply_goes_through_the_masked_thread_as_the_agent(alice, desk_session):
    client = logged_in(alice)
    response = client.post(url(desk_session, "reply/"), {"to": "partner", "text": "Is 10:00 ok?"})
    assert response.status_code == 302
    sent = desk_session.messages.get(direction="out", origin="api")
    assert sent.participant.role == "partner" and sent.body == "Is 10:00 ok?"
    queued = TimelineEvent.objects.get(message=sent, kind=EventKind.MESSAGE_QUEUED)
    assert queued.actor_user == alice


def test_a_reply_after_someone_else_replied_is_warned_first(alice, bob, desk_session):
    seen = logged_in(alice).get(url(desk_session)).context["thread"].last_event_id
    logged_in(bob).post(url(desk_session, "reply/"), {"to": "customer", "text": "Confirmed!"})

    client = logged_in(alice)
    data = {"to": "customer", "text": "Let me check", "seen": seen}
    warned = client.post(url(desk_session, "reply/"), data, headers=HTMX)
    assert warned.status_code == 409
    assert "bob wrote to the customer" in warned.content.decode()
    assert "Let me check" in warned.content.decode()  # what was typed is kept
    assert desk_session.messages.filter(body="Let me check").count() == 0

    sent = client.post(url(desk_session, "reply/"), data | {"anyway": "on"}, headers=HTMX)
    assert sent.status_code == 200
    assert desk_session.messages.filter(body="Let me check").count() == 1


def test_a_refused_reply_says_why_beside_the_box(alice, desk_session):
    RelaySession.objects.filter(pk=desk_session.pk).update(status="closed")
    client = logged_in(alice)
    response = client.post(
        url(desk_session, "reply/"), {"to": "customer", "text": "hi"}, headers=HTMX
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="reply"' in body and "Session is closed or expired" in body
    empty = client.post(url(desk_session, "reply/"), {"to": "customer", "text": " "}, headers=HTMX)
    assert empty.status_code == 422 and "This field is required" in empty.content.decode()
    assert not desk_session.messages.exists()


def test_commands_run_as_the_agent_and_refusals_show_how_to_write_them(alice, desk_session):
    client = logged_in(alice)
    RelaySession.objects.filter(pk=desk_session.pk).update(booking_status="requested")
    done = client.post(
        url(desk_session, "command/"), {"text": "/confirmbooking BK-1042"}, headers=HTMX
    )
    assert done.status_code == 200 and "done:" in done.content.decode()
    desk_session.refresh_from_db()
    assert desk_session.booking_status == "confirmed"
    event = TimelineEvent.objects.get(session=desk_session, kind=EventKind.COMMAND_RUN)
    assert event.actor_user == alice

    wrong = client.post(url(desk_session, "command/"), {"text": "/quote lots"}, headers=HTMX)
    assert wrong.status_code == 422
    assert "Write it like this: /quote &lt;money&gt;" in wrong.content.decode()


def test_the_command_box_suggests_the_commands_allowed_here(alice, desk_session):
    client = logged_in(alice)
    options = client.get(url(desk_session, "commands/?text=/con")).content.decode()
    assert "/confirmbooking" in options
    assert 'data-fill="/confirmbooking BK-1042"' in options  # its booking filled in
    assert "/handover" not in options  # childcare only
    every = client.get(url(desk_session, "commands/?text=/")).content.decode()
    assert "/close" in every and "/note" in every and "/handover" not in every


def test_notes_status_and_assignment(alice, bob, carol, desk_session):
    client = logged_in(alice)
    client.post(url(desk_session, "notes/"), {"text": "Prefers mornings"})
    assert Note.objects.get(session=desk_session).author == alice

    RelaySession.objects.filter(pk=desk_session.pk).update(booking_status="requested")
    client.post(url(desk_session, "status/"), {"status": "confirmed"})
    refused = client.post(url(desk_session, "status/"), {"status": "requested"}, headers=HTMX)
    assert refused.status_code == 422
    assert "A booking that is confirmed cannot become requested" in refused.content.decode()
    desk_session.refresh_from_db()
    assert desk_session.booking_status == "confirmed"

    client.post(url(desk_session, "assign/"), {"user": bob.pk})
    desk_session.refresh_from_db()
    assert desk_session.assignee == bob
    outside = client.post(url(desk_session, "assign/"), {"user": carol.pk}, headers=HTMX)
    assert outside.status_code == 422
    desk_session.refresh_from_db()
    assert desk_session.assignee == bob


def test_a_held_message_is_forwarded_edited_or_discarded(alice, desk_session):
    RelaySession.objects.filter(pk=desk_session.pk).update(mode="mediated")
    first = inbound(desk_session, "Price is 900, call 07700 900123", status="awaiting_agent")
    second = inbound(desk_session, "spam", status="awaiting_agent")
    client = logged_in(alice)
    page = client.get(url(desk_session)).content.decode()
    assert f"/held/{first.pk}/forward/" in page

    client.post(url(desk_session, f"held/{first.pk}/forward/"), {"text": "Price is 900"})
    copy = desk_session.messages.get(source=first)
    assert copy.body == "Price is 900" and copy.participant.role == "partner"
    assert TimelineEvent.objects.get(kind=EventKind.MESSAGE_FORWARDED).detail["edited"] is True

    blank = client.post(
        url(desk_session, f"held/{second.pk}/discard/"), {"reason": ""}, headers=HTMX
    )
    assert blank.status_code == 422 and "Say why it is discarded" in blank.content.decode()
    client.post(url(desk_session, f"held/{second.pk}/discard/"), {"reason": "spam"})
    second.refresh_from_db()
    assert second.status == MessageStatus.DISCARDED
    again = client.post(url(desk_session, f"held/{second.pk}/forward/"), {"text": ""}, headers=HTMX)
    assert again.status_code == 422 and "not waiting for an agent" in again.content.decode()
    assert client.post(url(desk_session, f"held/{second.pk}/eat/"), {}).status_code == 404


def test_a_quote_gets_its_margin_and_goes_to_the_customer(alice, desk_session):
    quote = Quote.objects.create(session=desk_session, amount=Decimal(1000), currency="EUR")
    client = logged_in(alice)
    none = client.post(url(desk_session, f"quotes/{quote.pk}/send/"), {}, headers=HTMX)
    assert none.status_code == 422 and "percentage or as an amount" in none.content.decode()

    client.post(url(desk_session, f"quotes/{quote.pk}/send/"), {"margin_percent": "20"})
    quote.refresh_from_db()
    assert quote.status == "sent" and quote.final_amount == Decimal(1200)
    told = desk_session.messages.get(direction="out", participant__role="customer")
    assert "1,200 EUR" in told.body and "1,000" not in told.body


def test_live_updates_send_only_what_changed_and_show_who_else_is_here(alice, bob, desk_session):
    client = logged_in(alice)
    thread = client.get(url(desk_session)).context
    after, held = thread["thread"].last_event_id, thread["waiting_key"]
    quiet = client.get(url(desk_session, f"live/?after={after}&held={held}")).content.decode()
    assert 'id="presence"' in quiet and 'id="transcript"' not in quiet

    logged_in(bob).get(url(desk_session, f"live/?after={after}&held={held}"))
    inbound(desk_session, "Are you there?")
    with transaction.atomic():
        timeline_record(EventKind.MESSAGE_RECEIVED, session=desk_session)
    moved = client.get(url(desk_session, f"live/?after={after}&held={held}")).content.decode()
    assert "Are you there?" in moved and 'hx-swap-oob="true"' in moved
    assert "Also viewing: bob" in moved


def test_media_is_shown_from_the_provider(alice, desk_session, settings):
    settings.RELAY_PROVIDER = "console"
    customer = desk_session.participants.get(role="customer")
    photo = Message.objects.create(
        session=desk_session, participant=customer, contact=customer.contact,
        proxy_number=customer.proxy_number, direction="in", origin="participant", type="image",
        payload={"type": "image", "image": {"id": "m1", "mime_type": "image/png"}},
        status="relayed",
    )  # fmt: skip
    client = logged_in(alice)
    assert f'<img class="media" src="/inbox/sessions/{desk_session.pk}/media/{photo.pk}/"' in (
        client.get(url(desk_session)).content.decode()
    )
    response = client.get(url(desk_session, f"media/{photo.pk}/"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    text = inbound(desk_session, "not a file")
    assert client.get(url(desk_session, f"media/{text.pk}/")).status_code == 404


def test_opening_a_thread_marks_it_read_up_to_its_last_message(alice, desk_session):
    message = inbound(desk_session, "hello")
    logged_in(alice).get(url(desk_session))
    view = desk_session.views.get(user=alice)
    assert view.read_up_to == message.pk and view.seen_at <= timezone.now()


def test_a_held_message_forwarded_as_shown_is_not_an_edit(alice, desk_session):
    RelaySession.objects.filter(pk=desk_session.pk).update(mode="mediated")
    held = inbound(desk_session, "Call me on 07700 900123", status="awaiting_agent")
    shown = "Call me on [number hidden]"  # what an agent without the permission sees
    logged_in(alice).post(
        url(desk_session, f"held/{held.pk}/forward/"), {"text": shown, "shown": shown}
    )
    assert TimelineEvent.objects.get(kind=EventKind.MESSAGE_FORWARDED).detail["edited"] is False
    assert desk_session.messages.get(source=held).body == shown  # the guard hid it anyway


def test_a_quiet_poll_costs_a_few_queries_however_long_the_thread(alice, desk_session):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from relay.inbox.thread import thread_version

    client = logged_in(alice)

    def quiet_poll() -> int:
        after, held = thread_version(desk_session)
        with CaptureQueriesContext(connection) as captured:
            body = client.get(url(desk_session, f"live/?after={after}&held={held}")).content
        assert b'id="transcript"' not in body
        return len(captured)

    quiet_poll()  # the first one records the agent's view of the thread
    short = quiet_poll()
    for n in range(30):
        inbound(desk_session, f"message {n}", status="awaiting_agent" if n % 3 else "relayed")
    assert quiet_poll() == short <= 11
