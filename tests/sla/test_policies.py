"""SLA policies through the API: targets in whole seconds per clock, validated; a change is a
new version."""

import pytest

from routing.models import Team
from sla.models import BusinessCalendar, SlaPolicy

POLICY = {
    "name": "standard booking",
    "workflow": "booking",
    "targets": {"partner_ack": 3600, "confirmation": 1800},
    "warn_at": 0.8,
}


def create(api, **changes):
    return api.post("/api/v1/sla-policies/", POLICY | changes, format="json")


def test_a_policy_is_created_with_its_first_version(api):
    BusinessCalendar.objects.create(name="London desk", time_zone="Europe/London")

    answer = create(api, calendar="London desk", escalate_after=900)

    assert answer.status_code == 201
    body = answer.json()
    assert {k: body[k] for k in ("name", "workflow", "targets", "warn_at", "calendar")} == {
        **{k: POLICY[k] for k in ("name", "workflow", "targets", "warn_at")},
        "calendar": "London desk",
    }
    assert (body["version"], body["escalate_after"]) == (1, 900)
    assert api.get("/api/v1/sla-policies/").json()["results"][0]["id"] == body["id"]


def test_a_policy_may_hold_one_partners_or_teams_sessions_and_escalate_to_its_next_contact(
    api, partner
):
    Team.objects.create(slug="desk", name="Desk")

    answer = create(api, partner="loc-a", team="desk", escalate_to="next_contact")

    assert answer.status_code == 201
    body = answer.json()
    assert (body["partner"], body["team"], body["escalate_to"]) == ("loc-a", "desk", "next_contact")
    changed = api.patch(f"/api/v1/sla-policies/{body['id']}/", {"escalate_to": "team_lead"})
    assert (changed.json()["escalate_to"], changed.json()["version"]) == ("team_lead", 2)


@pytest.mark.parametrize(
    "changes, field, problem",
    [
        ({"targets": {"lunch": 60}}, "targets", "'lunch' is not a clock"),
        ({"targets": {"quote": 0}}, "targets", "at least 1"),
        ({"targets": {"quote": 1.5}}, "targets", "whole number"),
        ({"targets": {}}, "targets", "at least one target"),
        ({"warn_at": 1.2}, "warn_at", "less than or equal to 0.99"),
        ({"workflow": "bookings"}, "workflow", "does not exist"),
        ({"calendar": "Mars"}, "calendar", "does not exist"),
        ({"partner": "nobody"}, "partner", "does not exist"),
        ({"team": "night"}, "team", "does not exist"),
        ({"escalate_to": "the moon"}, "escalate_to", "not a valid choice"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_changes_nothing(api, changes, field, problem):
    answer = create(api, **changes)

    assert answer.status_code == 400 and problem in str(answer.json()[field])
    assert not SlaPolicy.objects.exists()


def test_a_name_is_taken_once(api):
    create(api)

    answer = create(api)

    assert answer.status_code == 400 and "already" in answer.json()["name"][0]


def test_a_change_is_a_new_version_and_the_old_one_stays(api):
    policy = create(api).json()

    answer = api.patch(
        f"/api/v1/sla-policies/{policy['id']}/", {"targets": {"quote": 86400}}, format="json"
    )

    assert answer.status_code == 200
    assert (answer.json()["version"], answer.json()["targets"]) == (2, {"quote": 86400})
    assert answer.json()["warn_at"] == 0.8  # kept from version 1
    versions = SlaPolicy.objects.get().versions.order_by("number")
    assert [v.targets for v in versions] == [POLICY["targets"], {"quote": 86400}]


def test_what_is_fixed_cannot_be_patched(api):
    policy = create(api).json()

    answer = api.patch(
        f"/api/v1/sla-policies/{policy['id']}/", {"workflow": "childcare-interview"}, format="json"
    )

    assert answer.status_code == 400 and "fixed" in answer.json()["workflow"][0]
    assert SlaPolicy.objects.get().versions.count() == 1


def admin_form(**fields) -> dict:
    return {
        "name": "standard booking",
        "workflow": "booking",
        "targets": '{"partner_ack": 3600}',
        "warn_at": "0.8",
        "escalate_to": "team_lead",
        "active": "on",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        **fields,
    }


def test_the_admin_makes_a_policy_and_a_new_version_when_its_targets_change(admin_client):
    added = admin_client.post("/admin/sla/slapolicy/add/", admin_form())
    assert added.status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.current.number, policy.current.targets) == (1, {"partner_ack": 3600})

    changed = admin_client.post(
        f"/admin/sla/slapolicy/{policy.pk}/change/",
        admin_form(targets='{"partner_ack": 1800}', **{"versions-INITIAL_FORMS": "0"}),
    )

    assert changed.status_code == 302
    assert [(v.number, v.targets) for v in policy.versions.order_by("number")] == [
        (1, {"partner_ack": 3600}),
        (2, {"partner_ack": 1800}),
    ]


def test_the_admin_refuses_targets_that_are_not_clocks(admin_client):
    answer = admin_client.post("/admin/sla/slapolicy/add/", admin_form(targets='{"lunch": 5}'))

    assert answer.status_code == 200 and "&#x27;lunch&#x27; is not a clock" in answer.text
    assert not SlaPolicy.objects.exists()
