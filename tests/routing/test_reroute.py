"""/routing <partner>: a misrouted thread moves to another partner; the customer keeps their
number, the old partner contact stops receiving it, and what waited for them goes to the new
one (seed 002)."""

import pytest

from relay.choices import EventKind
from relay.models import RelaySession
from routing.models import Reference, Rule
from routing.services.partners import PartnerContactInput, partner_create
from tests.routing.conftest import BUYER, INTAKE, PRODUCTION
from tests.routing.test_intake import write

OTHER_FACTORY = "+919800000009"


@pytest.fixture
def misrouted(whatsapp_api, intake_pool, opening_templates, factory, post_webhook):
    """A buyer's complaint about PO1234, routed to the factory the reference table names,
    which is the wrong one."""
    partner_create(
        code="factory-b",
        name="Factory B",
        kind="factory",
        contacts=[PartnerContactInput(name="Arjun", phone=OTHER_FACTORY, role="production")],
    )
    Reference.objects.create(code="PO1234", partner=factory)
    Rule.objects.create(
        name="orders",
        conditions=[{"kind": "regex", "value": r"(?P<ref>PO\d+)"}],
        actions=[{"kind": "partner_by_reference", "value": "ref"}],
    )
    write(post_webhook, BUYER, "2000", body="PO1234 stitching defect on SKU-A")
    return RelaySession.objects.get()


def test_seed_002_a_misrouted_thread_moves_to_another_factory(
    whatsapp_api, api, misrouted, post_webhook, run_tasks
):
    old_number = misrouted.participants.get(role="partner").proxy_number

    answer = run_tasks(
        api.post,
        f"/api/v1/sessions/{misrouted.pk}/commands/",
        {"text": "/routing factory-b"},
        format="json",
    )

    assert answer.json() == {"ok": True, "reply": "done: the session is now with factory-b"}
    misrouted.refresh_from_db()
    assert misrouted.partner.code == "factory-b"
    new = misrouted.participants.get(role="partner", active=True)
    assert new.name == "Arjun"
    assert misrouted.participants.get(role="customer").proxy_number.e164 == INTAKE
    assert whatsapp_api.last_to(OTHER_FACTORY)["type"] == "template"  # told of the booking

    # The new factory answers: the complaint that waited for the old one reaches it.
    write(post_webhook, OTHER_FACTORY, new.proxy_number.phone_number_id, body="We will check")
    assert "PO1234 stitching defect on SKU-A" in whatsapp_api.texts_to(OTHER_FACTORY)
    assert whatsapp_api.texts_to(BUYER) == ["We will check"]
    # The old factory's contact no longer reaches the buyer.
    write(post_webhook, PRODUCTION, old_number.phone_number_id, body="still here?")
    assert "still here?" not in whatsapp_api.texts_to(BUYER)
    assert "PO1234 stitching defect on SKU-A" not in whatsapp_api.texts_to(PRODUCTION)
    routed = misrouted.timeline.filter(kind=EventKind.SESSION_ROUTED).order_by("pk").last()
    assert routed.detail["from_partner_id"] != routed.detail["partner_id"]
    assert routed.detail["moved"] == 1


def test_a_session_in_triage_is_placed_with_routing(
    whatsapp_api, api, intake_pool, factory, post_webhook, run_tasks
):
    write(post_webhook, BUYER, "2000", body="hello, my order has a problem")
    session = RelaySession.objects.get()
    assert session.partner is None

    answer = run_tasks(
        api.post,
        f"/api/v1/sessions/{session.pk}/commands/",
        {"text": "/routing factory-a"},
        format="json",
    )

    assert answer.status_code == 200
    session.refresh_from_db()
    assert session.partner == factory


@pytest.mark.parametrize(
    "text, reason",
    [
        ("/routing nobody", "there is no partner nobody"),
        ("/routing factory-a", "the session is with factory-a already"),
        ("/routing", "the partner code is missing"),
    ],
)
def test_a_reroute_that_cannot_be_done_changes_nothing(api, misrouted, text, reason):
    answer = api.post(f"/api/v1/sessions/{misrouted.pk}/commands/", {"text": text}, format="json")

    assert answer.status_code == 400 and reason in answer.json()["reply"]
    misrouted.refresh_from_db()
    assert misrouted.partner.code == "factory-a"
    assert misrouted.participants.filter(role="partner").count() == 1
