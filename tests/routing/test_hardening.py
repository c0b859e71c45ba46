"""What must not go wrong in routing: no phone number taken for a reference, no message lost
to a rule or partner that cannot work, and partial updates that keep what they do not name."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from relay.models import OperatorAlert, RelaySession
from relay.privacy import redact
from routing.conditions import Sample
from routing.models import Agent, PartnerTag, Rule, Specialization
from routing.rules import rules_run
from routing.services.partners import PartnerContactInput, partner_create
from tests.routing.conftest import BUYER
from tests.routing.test_intake import write


@pytest.mark.parametrize(
    "text, reference, region",
    [
        ("call +44 7700 900123 today", "900123", "GB"),
        ("call +1 415 555 0198 today", "555", "US"),
        ("call 4155550198 today", "4155550198", "US"),  # a valid number is never a reference
    ],
)
def test_a_reference_inside_or_equal_to_a_phone_number_does_not_shield_it(text, reference, region):
    result = redact(text, region=region, keep=lambda _: [reference])

    assert result.text == "call [number hidden] today"


def test_a_pattern_that_captures_a_phone_number_makes_no_reference_of_it(
    whatsapp_api, intake_pool, opening_templates, post_webhook
):
    partner_create(
        code="factory-a",
        name="Factory A",
        kind="factory",
        contacts=[PartnerContactInput(name="Meena", phone="+919800000002")],
    )
    Rule.objects.create(
        name="careless",
        conditions=[{"kind": "regex", "value": r"(?P<ref>\d{8,})"}],
        actions=[{"kind": "set_partner", "value": "factory-a"}],
    )

    write(post_webhook, BUYER, "2000", body="call me on 4155550123 please")

    session = RelaySession.objects.get()
    assert session.external_ref.startswith("IN-")
    sent = whatsapp_api.everything_sent_to("+919800000002")
    assert "4155550123" not in sent and "Someone" not in sent  # nor the profile name


def test_captures_of_a_rule_that_did_not_match_are_not_kept(db):
    rules = [
        Rule(
            name="half",
            conditions=[
                {"kind": "regex", "value": r"(?P<ref>PO\d+)"},
                {"kind": "keyword", "value": "urgent"},
            ],
            actions=[{"kind": "add_tag", "value": "x"}],
        )
    ]

    decision = rules_run(Sample(text="PO1234 when you can"), rules)

    assert decision.steps == [] and decision.placement.external_ref == ""


def test_a_night_window_holds_past_midnight_into_the_next_day(db):
    condition = {"kind": "time", "value": "fri 22:00-06:00", "timezone": "Europe/London"}
    rule = Rule(conditions=[condition], actions=[{"kind": "add_tag", "value": "night"}])
    saturday_2am = datetime(2026, 12, 5, 2, 0, tzinfo=ZoneInfo("Europe/London"))
    sunday_2am = datetime(2026, 12, 6, 2, 0, tzinfo=ZoneInfo("Europe/London"))

    assert rules_run(Sample(at=saturday_2am), [rule]).steps
    assert not rules_run(Sample(at=sunday_2am), [rule]).steps


def test_a_rule_stored_broken_is_skipped_with_an_alert_and_the_rest_run(db, partner):
    Rule.objects.create(name="broken", position=1, conditions=[{"kind": "x"}], actions=[])
    Rule.objects.create(
        name="bad pattern", position=2, conditions=[{"kind": "regex", "value": "("}], actions=[]
    )
    Rule.objects.create(
        name="good", position=3, actions=[{"kind": "set_partner", "value": "loc-a"}]
    )

    decision = rules_run(Sample(text="hello"))

    assert decision.placement.partner == partner
    alerts = OperatorAlert.objects.filter(kind="routing_rule_broken")
    assert {"broken", "bad pattern"} <= {a.message.split("'")[1] for a in alerts}


def test_a_partner_no_session_can_open_with_leaves_the_message_in_triage(
    whatsapp_api, intake_pool, post_webhook
):
    partner_create(code="empty", name="No contacts yet", kind="factory", contacts=[])
    Rule.objects.create(name="to empty", actions=[{"kind": "set_partner", "value": "empty"}])

    write(post_webhook, BUYER, "2000", body="hello")

    session = RelaySession.objects.get()
    assert session.partner is None and session.routing_decision.triage
    assert "has no contacts" in OperatorAlert.objects.get(kind="intake_partner_unreachable").message


def test_an_agent_who_is_away_is_not_given_sessions_by_a_rule(db, django_user_model):
    Agent.objects.create(user=django_user_model.objects.create_user("ana"), available=False)
    rule = Rule(actions=[{"kind": "assign_agent", "value": "ana"}])

    decision = rules_run(Sample(), [rule])

    assert decision.placement.agent is None and decision.steps[0]["did"] == ["agent ana is away"]


def test_live_sessions_are_counted_once_whatever_labels_a_partner_has(open_session, partner):
    labelled = partner  # one live session, and three tags that would repeat it in the count
    labelled.specializations.add(Specialization.objects.create(name="Rings"))
    labelled.tags.add(*(PartnerTag.objects.create(name=name) for name in ("a", "b", "c")))
    open_session()
    other = partner_create(
        code="other",
        name="Other",
        kind="workshop",
        contacts=[PartnerContactInput(name="Gio", phone="+393400000004")],
        specializations=["Rings"],
    )
    open_session(ref="BK-2", partner=other)
    open_session(ref="BK-3", partner=other, customer="+14155550777")
    rule = Rule(actions=[{"kind": "partner_by_specialization", "value": "rings"}])

    assert rules_run(Sample(), [rule]).placement.partner == labelled  # 1 live session, not 3


class TestRuleUpdates:
    def test_a_patch_keeps_what_it_does_not_name(self, api):
        rule = api.post(
            "/api/v1/rules/",
            {
                "name": "orders",
                "conditions": [{"kind": "keyword", "value": "order"}],
                "actions": [{"kind": "add_tag", "value": "order"}],
            },
            format="json",
        ).json()

        off = api.patch(f"/api/v1/rules/{rule['id']}/", {"active": False}, format="json")
        moved = api.patch(
            f"/api/v1/rules/{rule['id']}/",
            {"actions": [{"kind": "add_tag", "value": "po"}]},
            format="json",
        )

        assert off.status_code == 200 and off.json()["active"] is False
        assert moved.json()["conditions"] == [{"kind": "keyword", "value": "order"}]


def test_a_csv_file_the_reader_cannot_read_is_a_400(api, partner):
    text = "code,partner\n" + '"' + "x" * 200_000 + '",loc-a\n'

    answer = api.post("/api/v1/references/import/", text.encode(), content_type="text/csv")

    assert answer.status_code == 400 and "not CSV" in str(answer.json())
