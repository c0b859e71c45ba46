"""Routing rules end to end: each condition and action, order and stop, and assignment under
concurrency, with signed webhooks to the intake number and the fake Graph API out."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from relay.choices import EventKind, Priority, SessionMode
from relay.models import Contact, RelaySession
from relay.services.contacts import contact_get_or_create
from relay.services.webhooks import webhook_store, webhooks_process_due
from relay.webhooks.envelope import conversation_of
from routing.choices import Assignment
from routing.models import Agent, Reference, Rule, Team
from routing.services.partners import partner_create
from tests.conftest import at_the_same_instant, skip_unless_postgresql
from tests.relay import wa
from tests.routing.conftest import BUYER
from tests.routing.conftest import PRODUCTION as FACTORY
from tests.routing.test_intake import write


def to_factory(*conditions, **fields) -> Rule:
    return Rule.objects.create(
        name=fields.pop("name", "to the factory"),
        conditions=list(conditions),
        actions=fields.pop("actions", [{"kind": "set_partner", "value": "factory-a"}]),
        **fields,
    )


PDF = {"id": "doc-1", "mime_type": "application/pdf", "filename": "report.pdf"}
TEXT_FILE = {"id": "doc-1", "mime_type": "text/plain", "filename": "notes.txt"}
WEDNESDAY_10_UTC = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "condition, message, routed",
    [
        ({"kind": "keyword", "value": "defect, damage"}, {"body": "a DEFECT here"}, True),
        ({"kind": "keyword", "value": "defect"}, {"body": "defective? no"}, False),
        ({"kind": "regex", "value": r"SKU-[A-Z]\b"}, {"body": "about SKU-A"}, True),
        ({"kind": "regex", "value": r"SKU-[A-Z]\b"}, {"body": "about sku 9"}, False),
        ({"kind": "message_type", "value": "pdf"}, {"type": "document", "document": PDF}, True),
        (
            {"kind": "message_type", "value": "pdf"},
            {"type": "document", "document": TEXT_FILE},
            False,
        ),
        ({"kind": "message_type", "value": "text"}, {"body": "hi"}, True),
        ({"kind": "number", "value": "+15550002000"}, {"body": "hi"}, True),
        ({"kind": "number", "value": "+15550002001"}, {"body": "hi"}, False),
        ({"kind": "workflow", "value": "export-feedback"}, {"body": "hi"}, True),
        ({"kind": "workflow", "value": "booking"}, {"body": "hi"}, False),
        ({"kind": "tag", "value": "vip"}, {"body": "hi"}, True),
        ({"kind": "tag", "value": "wholesale"}, {"body": "hi"}, False),
        ({"kind": "time", "value": "mon-fri 09:00-18:00"}, {"body": "hi"}, True),
        ({"kind": "time", "value": "sat,sun"}, {"body": "hi"}, False),
    ],
)
def test_each_condition_decides_whether_a_message_is_routed(
    whatsapp_api, intake_pool, factory, post_webhook, clock, condition, message, routed
):
    clock.move_to(WEDNESDAY_10_UTC, tick=False)
    whatsapp_api.add_media("doc-1", b"%PDF-1.7 a report")
    Contact.objects.filter(pk=contact_get_or_create(phone=BUYER).pk).update(tags=["vip"])
    to_factory(condition)

    write(post_webhook, BUYER, "2000", **message)

    session = RelaySession.objects.get()
    assert (session.partner == factory) is routed
    assert session.timeline.filter(
        kind=EventKind.SESSION_ROUTED if routed else EventKind.SESSION_TRIAGED
    ).exists()


def test_each_action_shapes_the_session_a_webhook_opens(
    whatsapp_api, intake_pool, opening_templates, factory, post_webhook
):
    team = Team.objects.create(slug="exports", name="Exports")
    agent = get_user_model().objects.create_user("ana")
    Agent.objects.create(user=agent).teams.add(team)
    Reference.objects.create(code="PO1234", partner=factory)
    to_factory(
        {"kind": "regex", "value": r"(?P<ref>PO\d+)"},
        actions=[
            {"kind": "partner_by_reference", "value": "ref"},
            {"kind": "contact_role", "value": "production"},
            {"kind": "assign_team", "value": "exports"},
            {"kind": "assign_agent", "value": "ana"},
            {"kind": "add_tag", "value": "quality"},
            {"kind": "set_workflow", "value": "bespoke-inquiry"},
            {"kind": "set_mode", "value": "direct"},
            {"kind": "set_priority", "value": "urgent"},
        ],
    )

    write(post_webhook, BUYER, "2000", body="PO1234 seams open")

    session = RelaySession.objects.get()
    assert (session.partner, session.team, session.assignee) == (factory, team, agent)
    assert session.participants.get(role="partner").name == "Meena"
    assert (session.tags, session.priority) == (["quality"], Priority.URGENT)
    assert (session.workflow, session.mode, session.booking_status) == (
        "bespoke-inquiry",
        SessionMode.DIRECT,  # the rule's mode beats the workflow's (mediated)
        "inquiry",
    )
    assert whatsapp_api.last_to(FACTORY)["type"] == "template"
    assert session.timeline.filter(kind=EventKind.SESSION_ASSIGNED).exists()


@pytest.mark.parametrize(
    "action",
    [
        {"kind": "set_partner", "value": "factory-a"},
        {"kind": "partner_by_specialization", "value": "knitwear"},
    ],
)
def test_a_partner_set_directly_or_by_specialization(
    whatsapp_api, intake_pool, factory, post_webhook, action
):
    to_factory(actions=[action])

    write(post_webhook, BUYER, "2000", body="hello")

    assert RelaySession.objects.get().partner == factory


def test_rules_apply_in_order_until_one_stops(whatsapp_api, intake_pool, factory, post_webhook):
    other = partner_create(code="factory-b", name="Factory B", kind="factory", contacts=[])
    to_factory(name="later", position=30, actions=[{"kind": "set_partner", "value": "factory-b"}])
    to_factory(name="stops", position=20, stop=True)
    to_factory(name="first", position=10, actions=[{"kind": "add_tag", "value": "seen"}])

    write(post_webhook, BUYER, "2000", body="hello")

    session = RelaySession.objects.get()
    assert session.partner == factory != other and session.tags == ["seen"]
    assert [s["name"] for s in session.routing_decision.steps] == ["first", "stops"]


def test_a_code_found_among_100000_references_routes_the_message(
    whatsapp_api, intake_pool, factory, post_webhook
):
    from routing.services.references import references_import

    other = partner_create(code="factory-b", name="Factory B", kind="factory", contacts=[])
    lines = ["code,partner"] + [f"PO{n},factory-{'ab'[n % 2]}" for n in range(100_000)]
    references_import("\n".join(lines))
    to_factory(
        {"kind": "regex", "value": r"(?P<ref>PO\d+)"},
        actions=[{"kind": "partner_by_reference", "value": "ref"}],
    )

    write(post_webhook, BUYER, "2000", body="PO77776 is late")

    session = RelaySession.objects.get()
    assert (session.partner, session.external_ref) == (factory, "PO77776")  # even: factory-a
    assert other.sessions.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("strategy", [Assignment.LEAST_LOADED, Assignment.ROUND_ROBIN])
def test_two_messages_routed_at_once_never_overfill_an_agent(
    whatsapp_api, workflows, intake_pool, factory, settings, strategy
):
    skip_unless_postgresql()
    settings.RELAY_INLINE_WORK = False
    team = Team.objects.create(slug="exports", name="Exports", assignment=strategy)
    solo = Agent.objects.create(user=get_user_model().objects.create_user("solo"), capacity=1)
    solo.teams.add(team)
    to_factory(
        actions=[
            {"kind": "set_partner", "value": "factory-a"},
            {"kind": "assign_team", "value": "exports"},
        ]
    )
    for sender in (BUYER, "+14155550999"):
        envelope = wa.envelope("2000", messages=[wa.message(sender, body="hello")])
        webhook_store(body=wa.encode(envelope), conversation=conversation_of(envelope))

    at_the_same_instant(
        lambda: webhooks_process_due(limit=1), lambda: webhooks_process_due(limit=1)
    )

    assert RelaySession.objects.count() == 2
    assert RelaySession.objects.filter(assignee=solo.user).count() == 1
