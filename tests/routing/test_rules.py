"""Routing rules: each condition and action, their order and "stop", what is refused when a
rule is saved, and the admin's preview."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from relay.choices import MessageType
from routing.conditions import Sample
from routing.models import Partner, Reference, Rule, Team
from routing.rules import rules_run
from routing.services.partners import partner_create

KOLKATA = ZoneInfo("Asia/Kolkata")
ORDER_RULE = {
    "name": "orders to factories",
    "position": 10,
    "stop": True,
    "conditions": [{"kind": "regex", "value": "(?P<ref>PO\\d+)"}],
    "actions": [
        {"kind": "partner_by_reference", "value": "ref"},
        {"kind": "contact_role", "value": "production"},
    ],
}


def rule(*conditions, actions=None, **fields) -> Rule:
    actions = actions or [{"kind": "add_tag", "value": "matched"}]
    return Rule.objects.create(
        name=fields.pop("name", "r"), conditions=list(conditions), actions=actions, **fields
    )


def matches(condition: dict, **sample) -> bool:
    return bool(rules_run(Sample(**sample), [Rule(conditions=[condition], actions=[])]).steps)


@pytest.mark.django_db
class TestConditions:
    def test_keyword_matches_whole_words_whatever_their_case(self):
        condition = {"kind": "keyword", "value": "custom, bespoke"}
        assert matches(condition, text="A CUSTOM ring please")
        assert matches(condition, text="bespoke.")
        assert not matches(condition, text="customer service")

    def test_regex_captures_named_groups_and_the_ref_group_is_the_booking_reference(self):
        decision = rules_run(
            Sample(text="po1234 stitching defect"),
            [Rule(conditions=[{"kind": "regex", "value": r"(?P<ref>PO\d+)"}], actions=[])],
        )
        assert decision.steps and decision.placement.external_ref == "PO1234"

    @pytest.mark.parametrize(
        "value, type, mime, expected",
        [
            ("image", MessageType.IMAGE, "image/jpeg", True),
            ("photo", MessageType.IMAGE, "image/jpeg", True),
            ("pdf", MessageType.DOCUMENT, "application/pdf", True),
            ("pdf", MessageType.DOCUMENT, "text/plain", False),
            ("document", MessageType.DOCUMENT, "text/plain", True),
            ("image", MessageType.TEXT, "", False),
        ],
    )
    def test_message_type_and_attachment_kind(self, value, type, mime, expected):
        condition = {"kind": "message_type", "value": value}
        assert matches(condition, type=type, mime_type=mime) is expected

    def test_number_workflow_and_the_customers_tags(self):
        assert matches({"kind": "number", "value": "+1 555 000 2000"}, number="+15550002000")
        assert not matches({"kind": "number", "value": "+15550002001"}, number="+15550002000")
        assert matches({"kind": "workflow", "value": "booking"}, workflow="booking")
        assert matches({"kind": "tag", "value": "VIP"}, tags={"vip"})
        assert not matches({"kind": "tag", "value": "vip"}, tags=set())

    @pytest.mark.parametrize(
        "value, at, expected",
        [
            (
                "mon-fri 09:00-18:00",
                datetime(2026, 12, 2, 10, 0, tzinfo=KOLKATA),
                True,
            ),  # a Wednesday
            ("mon-fri 09:00-18:00", datetime(2026, 12, 2, 18, 0, tzinfo=KOLKATA), False),
            (
                "mon-fri 09:00-18:00",
                datetime(2026, 12, 5, 10, 0, tzinfo=KOLKATA),
                False,
            ),  # a Saturday
            ("sat,sun", datetime(2026, 12, 6, 3, 0, tzinfo=KOLKATA), True),
            ("22:00-06:00", datetime(2026, 12, 2, 23, 30, tzinfo=KOLKATA), True),  # past midnight
            ("22:00-06:00", datetime(2026, 12, 2, 7, 0, tzinfo=KOLKATA), False),
            (
                "fri-mon",
                datetime(2026, 12, 7, 12, 0, tzinfo=KOLKATA),
                True,
            ),  # a Monday, the week wrapped
        ],
    )
    def test_time_of_day_and_weekday_in_the_rules_time_zone(self, value, at, expected):
        condition = {"kind": "time", "value": value, "timezone": "Asia/Kolkata"}
        assert matches(condition, at=at) is expected


@pytest.mark.django_db
class TestActions:
    def test_each_action_shapes_where_the_session_goes(self, django_user_model):
        factory = partner_create(code="factory-a", name="Factory A", kind="factory", contacts=[])
        Reference.objects.create(code="PO1234", partner=factory)
        team = Team.objects.create(slug="exports", name="Exports")
        agent = django_user_model.objects.create_user("ana")
        actions = [
            {"kind": "partner_by_reference", "value": "ref"},
            {"kind": "contact_role", "value": "production"},
            {"kind": "assign_team", "value": "exports"},
            {"kind": "assign_agent", "value": "ana"},
            {"kind": "add_tag", "value": "quality"},
            {"kind": "set_workflow", "value": "export-feedback"},
            {"kind": "set_mode", "value": "mediated"},
            {"kind": "set_priority", "value": "urgent"},
        ]
        regex = {"kind": "regex", "value": r"(?P<ref>PO\d+)"}

        placement = rules_run(Sample(text="PO1234"), [Rule(conditions=[regex], actions=actions)])

        p = placement.placement
        assert (p.partner, p.contact_role, p.team, p.agent) == (factory, "production", team, agent)
        assert (p.tags, p.workflow, p.mode, p.priority) == (
            ["quality"],
            "export-feedback",
            "mediated",
            "urgent",
        )

    def test_set_partner_and_by_specialization_spreading_work(self, open_session, partner):
        other = partner_create(
            code="ring-2", name="Ring 2", kind="workshop", contacts=[], specializations=["Rings"]
        )
        partner.specializations.add(other.specializations.get())
        open_session()  # the first partner has a live session; the other has none
        by_skill = [{"kind": "partner_by_specialization", "value": "rings"}]
        direct = [{"kind": "set_partner", "value": "loc-a"}]

        assert rules_run(Sample(), [Rule(actions=by_skill)]).placement.partner == other
        assert rules_run(Sample(), [Rule(actions=direct)]).placement.partner == partner

    def test_an_inactive_or_unknown_partner_places_nothing(self, partner):
        Partner.objects.filter(pk=partner.pk).update(active=False)
        decision = rules_run(Sample(), [Rule(actions=[{"kind": "set_partner", "value": "loc-a"}])])

        assert decision.triage
        assert decision.steps[0]["did"] == ["no active partner 'loc-a'"]

    def test_a_code_no_partner_owns_places_nothing(self):
        regex = {"kind": "regex", "value": r"(?P<ref>PO\d+)"}
        action = {"kind": "partner_by_reference", "value": "ref"}
        decision = rules_run(Sample(text="PO9"), [Rule(conditions=[regex], actions=[action])])

        assert decision.triage
        assert "no active partner owns PO9" in decision.steps[0]["did"][0]


@pytest.mark.django_db
def test_rules_run_in_position_order_and_one_that_stops_ends_the_run():
    rule({"kind": "keyword", "value": "ring"}, name="third", position=30)
    rule(
        {"kind": "keyword", "value": "ring"},
        name="second",
        position=20,
        stop=True,
        actions=[{"kind": "add_tag", "value": "two"}],
    )
    rule({"kind": "keyword", "value": "ring"}, name="first", position=10)
    rule({"kind": "keyword", "value": "ring"}, name="off", position=5, active=False)

    decision = rules_run(Sample(text="a ring"))

    assert [step["name"] for step in decision.steps] == ["first", "second"]
    assert decision.placement.tags == ["matched", "two"]


class TestRulesThroughTheApi:
    def test_a_rule_in_the_documented_shape_is_created_and_reads_as_a_sentence(self, api):
        answer = api.post("/api/v1/rules/", ORDER_RULE, format="json")

        assert answer.status_code == 201, answer.json()
        body = answer.json()
        assert body["conditions"] == ORDER_RULE["conditions"]
        assert body["sentence"] == (
            "If the text matches (?P<ref>PO\\d+), then send to the partner that owns the ref "
            "in the reference table, production contact; stop."
        )
        assert Rule.objects.get().stop

    @pytest.mark.parametrize(
        "change, field, reason",
        [
            ({"conditions": [{"kind": "regex", "value": "(?P<ref>PO"}]}, "conditions", "not valid"),
            ({"conditions": [{"kind": "regex", "value": "(a+)+$"}]}, "conditions", "too slow"),
            (
                {"conditions": [{"kind": "regex", "value": "(\\w+\\s?)*$"}]},
                "conditions",
                "too slow",
            ),
            ({"conditions": [{"kind": "colour", "value": "red"}]}, "conditions", "unknown"),
            ({"conditions": [{"kind": "time", "value": "noon"}]}, "conditions", "neither days"),
            ({"actions": []}, "actions", "at least one action"),
            ({"actions": [{"kind": "set_mode", "value": "loud"}]}, "actions", "not one of"),
            ({"actions": [{"kind": "teleport", "value": "x"}]}, "actions", "unknown action"),
        ],
    )
    def test_a_rule_that_could_not_work_is_refused_with_the_reason(
        self, api, change, field, reason
    ):
        answer = api.post("/api/v1/rules/", ORDER_RULE | change, format="json")

        assert answer.status_code == 400
        assert reason in " ".join(answer.json()[field])
        assert not Rule.objects.exists()


def test_the_admin_tries_a_message_without_sending_or_storing_anything(admin_client, partner):
    rule(
        {"kind": "keyword", "value": "desk"},
        name="desks",
        actions=[{"kind": "set_partner", "value": "loc-a"}],
    )
    before = Rule.objects.count(), get_user_model().objects.count()

    page = admin_client.post(
        "/admin/routing/rule/try/", {"text": "a desk for tomorrow", "type": "text"}
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "It would go to Downtown Hub" in html and "desks" in html
    assert (Rule.objects.count(), get_user_model().objects.count()) == before
    from relay.models import Message, RelaySession

    assert not RelaySession.objects.exists() and not Message.objects.exists()


def test_the_rules_list_reads_as_sentences(admin_client):
    rule(
        {"kind": "regex", "value": r"(?P<ref>PO\d+)"},
        name="orders",
        stop=True,
        actions=[
            {"kind": "partner_by_reference", "value": "ref"},
            {"kind": "contact_role", "value": "production"},
        ],
    )

    html = admin_client.get("/admin/routing/rule/").content.decode()

    assert "If the text matches (?P&lt;ref&gt;PO\\d+), then send to the partner that owns" in html
    assert "Try a message" in html


def rows(name: str, *items) -> dict:
    """The admin form's rows: kind, value and time zone of each, by position."""
    data = {}
    for index, item in enumerate(items):
        kind, value, *zone = item
        data[f"{name}_{index * 3}"] = kind
        data[f"{name}_{index * 3 + 1}"] = value
        data[f"{name}_{index * 3 + 2}"] = zone[0] if zone else ""
    return data


def test_a_rule_is_written_in_the_admin_as_rows_without_json(admin_client):
    form = {"name": "orders", "position": 10, "active": "on", "stop": "on"}
    form |= rows("conditions", ("regex", r"(?P<ref>PO\d+)"), ("time", "mon-fri", "Asia/Kolkata"))
    form |= rows(
        "actions", ("partner_by_reference", "ref"), ("", ""), ("contact_role", "production")
    )

    page = admin_client.post("/admin/routing/rule/add/", form)

    assert page.status_code == 302, page.content.decode()[:2000]
    rule = Rule.objects.get()
    assert rule.conditions == [
        {"kind": "regex", "value": r"(?P<ref>PO\d+)"},
        {"kind": "time", "value": "mon-fri", "timezone": "Asia/Kolkata"},
    ]
    assert rule.actions == [
        {"kind": "partner_by_reference", "value": "ref"},
        {"kind": "contact_role", "value": "production"},
    ]
    again = admin_client.get(f"/admin/routing/rule/{rule.pk}/change/").content.decode()
    assert 'value="(?P&lt;ref&gt;PO\\d+)"' in again and 'value="Asia/Kolkata"' in again


def test_a_slow_pattern_is_refused_in_the_admin_next_to_it(admin_client):
    form = {"name": "slow", "position": 10}
    form |= rows("conditions", ("regex", "(a+)+$"))
    form |= rows("actions", ("add_tag", "x"))

    page = admin_client.post("/admin/routing/rule/add/", form)

    assert page.status_code == 200 and "too slow" in page.content.decode()
    assert not Rule.objects.exists()
