"""Intake end to end: signed webhooks in, the fake Graph API out. A customer writes to the
aggregator's public number; routing opens their session and the right partner contact gets
the message through a masked number."""

import pytest

from relay.choices import EventKind, MessageStatus, Role, SessionMode
from relay.models import Message, RelaySession, TimelineEvent
from routing.models import Reference, RoutingDecision, Rule, Specialization
from routing.services.partners import PartnerContactInput, partner_create
from tests.relay import wa
from tests.relay.factories import PartnerFactory
from tests.routing.conftest import BUYER, INTAKE, MANAGER, PRODUCTION

WORKSHOP = "+393400000003"
OTHER_WORKSHOP = "+393400000004"


def write(post_webhook, sender: str, phone_number_id: str, **kwargs) -> dict:
    item = wa.message(sender, **kwargs)
    assert post_webhook(wa.envelope(phone_number_id, messages=[item])).status_code == 200
    return item


@pytest.fixture
def orders_rule(db):
    return Rule.objects.create(
        name="orders to factories",
        position=10,
        stop=True,
        conditions=[{"kind": "regex", "value": r"(?P<ref>PO\d+)"}],
        actions=[
            {"kind": "partner_by_reference", "value": "ref"},
            {"kind": "contact_role", "value": "production"},
        ],
    )


def test_seed_002_a_buyer_photo_about_an_order_reaches_the_factorys_production_manager(
    whatsapp_api, intake_pool, opening_templates, factory, orders_rule, post_webhook
):
    Reference.objects.create(code="PO1234", partner=factory)
    PartnerFactory(code="factory-b")  # owns nothing here
    sha = whatsapp_api.add_media("photo-1", b"\xff\xd8 a photo of the seam")

    caption = "PO1234 stitching defect on SKU-A"
    image = {"id": "photo-1", "mime_type": "image/jpeg", "sha256": sha, "caption": caption}
    write(post_webhook, BUYER, "2000", type="image", image=image)

    session = RelaySession.objects.get()
    assert (session.external_ref, session.workflow, session.partner) == (
        "PO1234",
        "export-feedback",
        factory,
    )
    assert session.booking_status == "reported"
    customer = session.participants.get(role=Role.CUSTOMER)
    partner = session.participants.get(role=Role.PARTNER)
    assert customer.proxy_number.e164 == INTAKE  # the buyer keeps the number they wrote to
    assert partner.proxy_number.e164 != INTAKE and partner.name == "Meena"
    # The production manager hears of it at once, from a masked number, naming the order.
    opening = whatsapp_api.last_to(PRODUCTION)
    assert opening["type"] == "template"
    assert opening["_from"] == partner.proxy_number.phone_number_id
    assert "PO1234" in whatsapp_api.everything_sent_to(PRODUCTION)
    assert not [p for p in whatsapp_api.sent if p.get("to") == MANAGER]

    # She answers; the photo, held while her window was closed, follows, and her reply
    # reaches the buyer from the intake number.
    write(post_webhook, PRODUCTION, partner.proxy_number.phone_number_id, body="Checking now")

    photo = whatsapp_api.last_to(PRODUCTION)
    assert photo["type"] == "image" and photo["image"]["caption"] == caption
    assert whatsapp_api.texts_to(BUYER) == ["Checking now"]
    assert whatsapp_api.last_to(BUYER)["_from"] == "2000"
    sent = whatsapp_api.everything_sent_to(PRODUCTION) + whatsapp_api.everything_sent_to(BUYER)
    assert BUYER.lstrip("+") not in whatsapp_api.everything_sent_to(PRODUCTION)
    assert PRODUCTION.lstrip("+") not in whatsapp_api.everything_sent_to(BUYER)
    assert "PO1234" in sent  # a reference is never hidden as if it were a number


def test_seed_003_a_sketch_for_a_custom_ring_goes_mediated_to_the_workshop_that_fits(
    whatsapp_api, intake_pool, opening_templates, post_webhook
):
    platinum = Specialization.objects.create(name="Platinum Setting")
    workshop = partner_create(
        code="workshop-platinum",
        name="Workshop Platinum",
        kind="workshop",
        contacts=[PartnerContactInput(name="Luca", phone=WORKSHOP, role="manager")],
    )
    workshop.specializations.add(platinum)
    partner_create(
        code="workshop-antique",
        name="Antique Repairs",
        kind="workshop",
        contacts=[PartnerContactInput(name="Gio", phone=OTHER_WORKSHOP, role="manager")],
        specializations=["Antique Repair"],
    )
    Rule.objects.create(
        name="bespoke rings",
        position=20,
        stop=True,
        conditions=[{"kind": "keyword", "value": "custom, bespoke"}],
        actions=[
            {"kind": "add_tag", "value": "bespoke"},
            {"kind": "set_workflow", "value": "bespoke-inquiry"},
            {"kind": "partner_by_specialization", "value": "platinum setting"},
        ],
    )
    sha = whatsapp_api.add_media("sketch-1", b"\x89PNG a ring")
    image = {
        "id": "sketch-1",
        "mime_type": "image/png",
        "sha256": sha,
        "caption": "custom platinum ring",
    }

    write(post_webhook, "+447700900777", "2000", type="image", image=image)

    session = RelaySession.objects.get()
    assert session.partner == workshop and session.tags == ["bespoke"]
    assert (session.workflow, session.mode) == ("bespoke-inquiry", SessionMode.MEDIATED)
    assert session.external_ref.startswith("IN-")  # nobody was asked to type one
    held = Message.objects.get(direction="in")
    assert held.status == MessageStatus.AWAITING_AGENT  # an agent passes it on
    # The workshop is told of the inquiry, with nothing of the client but an alias.
    assert whatsapp_api.last_to(WORKSHOP)["type"] == "template"
    assert "447700900777" not in whatsapp_api.everything_sent_to(WORKSHOP)
    assert not [p for p in whatsapp_api.sent if p.get("to") == OTHER_WORKSHOP]


def test_further_messages_of_the_sender_join_their_live_session(
    whatsapp_api, intake_pool, opening_templates, factory, orders_rule, post_webhook
):
    Reference.objects.create(code="PO1234", partner=factory)
    write(post_webhook, BUYER, "2000", body="PO1234 stitching defect")
    write(post_webhook, BUYER, "2000", body="and the buttons too")

    session = RelaySession.objects.get()
    assert session.messages.filter(direction="in").count() == 2
    assert RoutingDecision.objects.count() == 1  # routed once, when it opened


def test_a_message_no_rule_places_waits_in_triage_for_an_agent(
    whatsapp_api, intake_pool, orders_rule, post_webhook
):
    write(post_webhook, BUYER, "2000", body="hello, who is this?")

    session = RelaySession.objects.get()
    assert session.partner is None
    assert list(session.participants.values_list("role", flat=True)) == [Role.CUSTOMER]
    assert RoutingDecision.objects.get(session=session).triage
    assert Message.objects.get(direction="in").status == MessageStatus.AWAITING_AGENT
    kinds = list(session.timeline.values_list("kind", flat=True))
    assert EventKind.SESSION_TRIAGED in kinds and EventKind.MESSAGE_HELD_FOR_AGENT in kinds
    assert whatsapp_api.sent == []  # nothing went anywhere


def test_every_routing_step_is_on_the_session_timeline(
    whatsapp_api, intake_pool, opening_templates, factory, orders_rule, post_webhook
):
    Reference.objects.create(code="PO1234", partner=factory)
    write(post_webhook, BUYER, "2000", body="PO1234 stitching defect")

    session = RelaySession.objects.get()
    kinds = list(
        TimelineEvent.objects.filter(session=session).order_by("pk").values_list("kind", flat=True)
    )
    for kind in (
        EventKind.SESSION_OPENED,
        EventKind.PARTICIPANT_BOUND,
        EventKind.OPENING_QUEUED,
        EventKind.SESSION_ROUTED,
        EventKind.MESSAGE_RECEIVED,
    ):
        assert kind in kinds, kind
    routed = session.timeline.get(kind=EventKind.SESSION_ROUTED)
    assert routed.detail["rules"] == [orders_rule.pk]
    assert routed.detail["partner_id"] == factory.pk


def test_the_admin_shows_each_sessions_routing_decision_and_lists_triage(
    whatsapp_api, intake_pool, factory, orders_rule, post_webhook, admin_client
):
    Reference.objects.create(code="PO1234", partner=factory)
    write(post_webhook, BUYER, "2000", body="PO1234 stitching defect")
    write(post_webhook, "+14155550999", "2000", body="hello?")
    routed = RelaySession.objects.get(external_ref="PO1234")

    page = admin_client.get(f"/admin/relay/relaysession/{routed.pk}/change/").content.decode()
    triage = admin_client.get("/admin/relay/relaysession/", {"triage": "yes"}).content.decode()

    assert "routed. orders to factories: partner factory-a, owner of PO1234" in page
    assert "production contact" in page
    assert "PO1234" not in triage and "IN-" in triage


def test_an_intake_workflow_that_was_removed_does_not_lose_the_message(
    whatsapp_api, intake_pool, post_webhook
):
    from relay.models import OperatorAlert
    from routing.models import Workflow

    Workflow.objects.filter(slug="export-feedback").delete()

    write(post_webhook, BUYER, "2000", body="hello")

    assert RelaySession.objects.get().workflow == "booking"
    assert "export-feedback" in OperatorAlert.objects.get(kind="intake_workflow_missing").message
