"""The seed workflows end to end: signed webhooks in, the fake Graph API out, the booking
platform and the agents on the REST API (seed 002 is in test_reroute.py)."""

import pytest

from relay.choices import EventKind
from relay.models import Handover, Message, Quote, RelaySession, Slot
from routing.models import PartnerContact
from routing.services.partners import PartnerContactInput, partner_create
from tests.relay import wa
from tests.relay.texts import english

MEMBER = "+14155550123"
TECHNICIAN = "+14155550177"
PARENT = "+447700900111"
CAREGIVER = "+447700900222"
CLIENT = "+447700900333"
WORKSHOP = "+393331112222"


def write(post_webhook, sender: str, participant, **kwargs) -> None:
    item = wa.message(sender, **kwargs)
    answer = post_webhook(wa.envelope(participant.proxy_number.phone_number_id, messages=[item]))
    assert answer.status_code == 200


def tap(post_webhook, sender: str, participant, kind: str, reply_id: str) -> None:
    reply = {"id": reply_id, "title": "x"}
    write(
        post_webhook,
        sender,
        participant,
        type="interactive",
        interactive={"type": kind, kind: reply},
    )


def command(api, run_tasks, session, text: str) -> dict:
    url = f"/api/v1/sessions/{session.pk}/commands/"
    return run_tasks(api.post, url, {"text": text}, format="json").json()


def open_booking(api, run_tasks, partner: tuple, customer: tuple, **fields) -> RelaySession:
    """The platform opens a booking with `customer` (name, phone) and a new partner (code,
    name, kind, its contact's name, phone and role)."""
    code, name, kind, contact, phone, role = partner
    created = partner_create(
        code=code,
        name=name,
        kind=kind,
        contacts=[PartnerContactInput(name=contact, phone=phone, role=role)],
    )
    fields |= {
        "customer": {"name": customer[0], "phone": customer[1]},
        "partner": code,
        "partner_contact": PartnerContact.objects.get(partner=created).pk,
    }
    answer = run_tasks(api.post, "/api/v1/sessions/", fields, format="json")
    assert answer.status_code == 201, answer.json()
    return RelaySession.objects.get(pk=answer.json()["id"])


def sides(session):
    return session.participants.get(role="customer"), session.participants.get(role="partner")


def kinds(session) -> list[str]:
    return list(session.timeline.values_list("kind", flat=True))


def test_seed_000_a_member_asks_for_av_the_technician_answers_and_confirms(
    whatsapp_api, api, run_tasks, pool, opening_templates, post_webhook
):
    booking = open_booking(
        api,
        run_tasks,
        ("hub-downtown", "Downtown Hub", "location", "Lee", TECHNICIAN, "technical"),
        ("Sam", MEMBER),
        external_ref="BK-1042",
        workflow="booking",
    )
    member, technician = sides(booking)
    assert whatsapp_api.last_to(TECHNICIAN)["type"] == "template"  # told of the booking

    write(post_webhook, MEMBER, member, body="Can the room have a projector and a mic?")
    write(post_webhook, TECHNICIAN, technician, body="Yes, both will be set up by 9:00.")
    assert "Can the room have a projector and a mic?" in whatsapp_api.texts_to(TECHNICIAN)
    assert whatsapp_api.texts_to(MEMBER) == ["Yes, both will be set up by 9:00."]

    write(post_webhook, TECHNICIAN, technician, body="/confirmbooking BK-1042")

    booking.refresh_from_db()
    assert booking.booking_status == "confirmed"
    assert whatsapp_api.texts_to(MEMBER)[-1] == english(
        "booking_now", ref="BK-1042", status="confirmed"
    )
    assert "/confirmbooking" not in whatsapp_api.everything_sent_to(MEMBER)
    changed = booking.timeline.get(kind=EventKind.BOOKING_STATUS_CHANGED)
    assert changed.detail == {"from": "requested", "to": "confirmed"}
    assert changed.actor == "partner"
    for phone, other in ((MEMBER, TECHNICIAN), (TECHNICIAN, MEMBER)):
        assert other.lstrip("+") not in whatsapp_api.everything_sent_to(phone)


@pytest.fixture
def match(whatsapp_api, api, run_tasks, pool, opening_templates, post_webhook):
    """A childcare match: the marketplace opens it, both sides write once."""
    session = open_booking(
        api,
        run_tasks,
        ("nanny-ana", "Ana", "caregiver", "Ana", CAREGIVER, "manager"),
        ("Priya", PARENT),
        external_ref="MT-7",
        workflow="childcare-interview",
    )
    parent, nanny = sides(session)
    write(post_webhook, PARENT, parent, body="Hello, when could we meet?")
    write(post_webhook, CAREGIVER, nanny, body="Hello! I can offer two times.")
    return session


def test_seed_001_slots_reminders_followup_and_handover_with_consent(
    whatsapp_api, api, run_tasks, post_webhook, match
):
    parent, nanny = sides(match)

    write(post_webhook, CAREGIVER, nanny, body="/slots tomorrow 10:00, tomorrow 16:00")
    first = Slot.objects.order_by("starts_at").first()
    assert whatsapp_api.last_to(PARENT)["interactive"]["type"] == "list"
    tap(post_webhook, PARENT, parent, "list_reply", f"slot:{first.pk}")

    match.refresh_from_db()
    assert match.booking_status == "scheduled"
    assert first.reminders.count() >= 1  # 24 h before has passed if it is less than a day away
    assert whatsapp_api.texts_to(CAREGIVER)[-1].startswith("Thank you! Booking MT-7 is set for")

    # The caregiver went quiet after the parent's question: /followup reminds her.
    write(post_webhook, PARENT, parent, body="Should I bring anything?")
    assert command(api, run_tasks, match, "/followup")["ok"] is True
    assert whatsapp_api.texts_to(CAREGIVER)[-1] == english("follow_up", ref="MT-7")

    # Both consent: the numbers are exchanged.
    assert command(api, run_tasks, match, "/handover")["ok"] is True
    handover = Handover.objects.get()
    tap(post_webhook, PARENT, parent, "button_reply", f"handover:{handover.pk}:yes")
    tap(post_webhook, CAREGIVER, nanny, "button_reply", f"handover:{handover.pk}:yes")

    match.refresh_from_db()
    assert match.handed_over is True
    assert CAREGIVER in whatsapp_api.everything_sent_to(PARENT)
    assert PARENT in whatsapp_api.everything_sent_to(CAREGIVER)
    for kind in (
        EventKind.SLOTS_OFFERED,
        EventKind.SLOT_CONFIRMED,
        EventKind.SESSION_FOLLOWED_UP,
        EventKind.HANDOVER_REQUESTED,
        EventKind.HANDOVER_COMPLETED,
    ):
        assert kind in kinds(match)


def test_seed_001_with_one_refusing_nothing_is_shared(
    whatsapp_api, api, run_tasks, post_webhook, match
):
    parent, nanny = sides(match)
    command(api, run_tasks, match, "/handover")
    handover = Handover.objects.get()

    tap(post_webhook, PARENT, parent, "button_reply", f"handover:{handover.pk}:yes")
    tap(post_webhook, CAREGIVER, nanny, "button_reply", f"handover:{handover.pk}:no")

    match.refresh_from_db()
    assert match.handed_over is False
    assert CAREGIVER.lstrip("+") not in whatsapp_api.everything_sent_to(PARENT)
    assert PARENT.lstrip("+") not in whatsapp_api.everything_sent_to(CAREGIVER)
    assert EventKind.HANDOVER_DECLINED in kinds(match)


def test_seed_003_the_client_sees_1380_usd_and_never_1200(
    whatsapp_api, api, run_tasks, pool, opening_templates, post_webhook
):
    inquiry = open_booking(
        api,
        run_tasks,
        ("workshop-platinum", "Workshop Platinum", "workshop", "Luca", WORKSHOP, "manager"),
        ("Mia", CLIENT),
        external_ref="JW-88",
        workflow="bespoke-inquiry",
    )
    client, luca = sides(inquiry)
    write(post_webhook, WORKSHOP, luca, body="Hello, we can help.")  # answers the opening
    write(post_webhook, CLIENT, client, body="/customring")
    write(post_webhook, CLIENT, client, body="A platinum ring with a 1 ct sapphire, please.")
    held = Message.objects.filter(direction="in").latest("id")

    # Mediated: the agent passes the request on, then the workshop quotes.
    url = f"/api/v1/sessions/{inquiry.pk}/held/{held.pk}/forward/"
    assert run_tasks(api.post, url, {}, format="json").status_code == 200
    assert "1 ct sapphire" in whatsapp_api.texts_to(WORKSHOP)[-1]
    write(post_webhook, WORKSHOP, luca, body="/quote 1200 USD 3 weeks")
    quote = Quote.objects.get()
    assert whatsapp_api.texts_to(CLIENT) == [
        english("command_done", name="customring", ref="JW-88")
    ]

    url = f"/api/v1/sessions/{inquiry.pk}/quotes/{quote.pk}/send/"
    assert run_tasks(api.post, url, {"margin_percent": "15"}, format="json").status_code == 200

    assert whatsapp_api.texts_to(CLIENT)[-1] == english(
        "quote_offer", ref="JW-88", price="1,380 USD", lead_time="3 weeks"
    )
    everything = whatsapp_api.everything_sent_to(CLIENT)
    assert "1200" not in everything and "1,200" not in everything
    inquiry.refresh_from_db()
    assert inquiry.booking_status == "quoted" and "custom-ring" in inquiry.tags
    assert kinds(inquiry).count(EventKind.COMMAND_RUN) == 2
