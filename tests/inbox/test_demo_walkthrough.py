"""The README's walk through the four demo workflows, played on the demo data as a new user
would: as phones on the simulator (webhooks handled as the worker would) and as an agent in
the inbox. Each step must do what the README says it does."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from relay.models import ConsoleMessage, ProxyNumber, RelaySession
from relay.services.delivery import messages_send_due
from relay.services.webhooks import webhooks_process_due
from relay.simulator.phone import phone_send
from sla.engine import SETTLED_AFTER, clocks_follow_timeline
from tests.inbox.conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, django_user_model):
    settings.DEBUG, settings.RELAY_PROVIDER = True, "console"
    call_command("load_demo", stdout=io.StringIO())
    return logged_in(django_user_model.objects.get(username="agent"))


def worker() -> None:
    while webhooks_process_due(limit=50) or messages_send_due(limit=50):
        pass
    clocks_follow_timeline(now=timezone.now() + SETTLED_AFTER)  # the scan runs each minute


def side(session: RelaySession, role: str):
    return session.participants.select_related("contact", "proxy_number").get(role=role)


def write(session, role: str, text: str = "", reply: dict | None = None) -> None:
    who = side(session, role)
    phone_send(phone=who.contact.phone, number=who.proxy_number, text=text, reply=reply)
    worker()


def received(session, role: str) -> list[dict]:
    who = side(session, role)
    outbox = ConsoleMessage.objects.filter(
        payload__to=who.contact.phone, phone_number_id=who.proxy_number.phone_number_id
    )
    return [message.payload for message in outbox.order_by("id")]


def test_the_coworking_booking(demo):
    booking = RelaySession.objects.get(external_ref="BK-1001")
    write(booking, "partner", "Yes, room 2 is free at 10:00.")
    assert any("room 2" in str(p) for p in received(booking, "customer"))
    assert "room 2" in demo.get(f"/inbox/sessions/{booking.pk}/").content.decode()

    options = demo.get(f"/inbox/sessions/{booking.pk}/commands/?text=/").content.decode()
    assert 'data-fill="/confirmbooking BK-1001"' in options
    demo.post(f"/inbox/sessions/{booking.pk}/command/", {"text": "/confirmbooking BK-1001"})
    booking.refresh_from_db()
    assert booking.booking_status == "confirmed"
    worker()
    assert "confirmed" in str(received(booking, "customer")[-1])
    assert booking.sla_clocks.get(clock="confirmation").state == "met"


def test_the_childcare_interview(demo):
    interview = RelaySession.objects.get(external_ref="CC-2001")
    times = next(p for p in received(interview, "customer") if p["type"] == "interactive")
    row = times["interactive"]["action"]["sections"][0]["rows"][0]
    write(interview, "customer", reply={"kind": "list_reply", "id": row["id"], "title": "x"})
    assert interview.slots.filter(status="confirmed").count() == 1

    write(interview, "partner", "/handover")
    question = received(interview, "customer")[-1]["interactive"]
    yes = next(
        b["reply"] for b in question["action"]["buttons"] if b["reply"]["id"].endswith("yes")
    )
    write(interview, "customer", reply={"kind": "button_reply", "id": yes["id"], "title": "Yes"})
    interview.refresh_from_db()
    assert interview.handed_over
    assert any(p["type"] == "contacts" for p in received(interview, "customer"))


def test_the_export_feedback(demo):
    feedback = RelaySession.objects.get(external_ref="PO1234")
    assert feedback.partner.code == "factory-a"
    assert "Orders to their factory" in demo.get(f"/inbox/sessions/{feedback.pk}/").content.decode()
    write(feedback, "partner", "Sorry! We will check the batch today.")
    assert feedback.sla_clocks.get(clock="partner_ack").state == "met"
    assert any("check the batch" in str(p) for p in received(feedback, "customer"))


def test_the_jewellery_inquiry(demo):
    inquiry = RelaySession.objects.get(workflow="bespoke-inquiry")
    held = inquiry.messages.get(status="awaiting_agent")
    assert "07700 900555" not in demo.get(f"/inbox/sessions/{inquiry.pk}/").content.decode()
    demo.post(
        f"/inbox/sessions/{inquiry.pk}/held/{held.pk}/forward/",
        {"text": "Thanks! Could it be ready before the 20th?"},
    )
    quote = inquiry.quotes.get()
    demo.post(f"/inbox/sessions/{inquiry.pk}/quotes/{quote.pk}/send/", {"margin_percent": "20"})
    worker()
    told = str(received(inquiry, "customer"))
    assert "1,440 EUR" in told and "1,200" not in told
    assert any("before the 20th" in str(p) for p in received(inquiry, "partner"))
    assert ProxyNumber.objects.filter(kind="intake").count() == 1
