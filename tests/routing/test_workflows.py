"""Workflows: the admin's definition of a kind of booking, read through the API, and what a
session takes from its workflow (mode, first status, opening messages)."""

import pytest

from relay.choices import EventKind, SessionMode
from relay.exceptions import RelayError
from relay.models import OperatorAlert, RelaySession
from routing.models import Workflow
from routing.services.bookings import booking_status_set
from routing.workflows import workflow_problem
from tests.relay.conftest import CUSTOMER, PARTNER

SESSION = {
    "external_ref": "BK-1042",
    "workflow": "booking",
    "customer": {"name": "Sam", "phone": CUSTOMER},
    "partner": "loc-a",
}


def test_the_four_demo_workflows_ship_as_data_and_are_listed(api):
    answer = api.get("/api/v1/workflows/").json()

    by_slug = {workflow["slug"]: workflow for workflow in answer}
    assert set(by_slug) >= {"booking", "childcare-interview", "export-feedback", "bespoke-inquiry"}
    assert by_slug["booking"]["name"] == "Coworking booking"
    assert by_slug["booking"]["statuses"][:2] == ["requested", "confirmed"]
    assert by_slug["bespoke-inquiry"]["mode"] == SessionMode.MEDIATED
    assert {"slug", "name", "mode", "statuses"} <= set(by_slug["booking"])


def test_an_unknown_workflow_is_a_400_that_lists_the_valid_ones(api, pool, partner):
    answer = api.post("/api/v1/sessions/", SESSION | {"workflow": "bookings"}, format="json")

    assert answer.status_code == 400
    reason = answer.json()["workflow"][0]
    assert "unknown workflow 'bookings'" in reason and "childcare-interview" in reason
    assert not RelaySession.objects.exists()


def test_a_session_takes_its_workflows_mode_and_first_status(api, pool, partner):
    answer = api.post(
        "/api/v1/sessions/", SESSION | {"workflow": "bespoke-inquiry"}, format="json"
    ).json()

    assert answer["workflow"] == "bespoke-inquiry"
    assert (answer["mode"], answer["booking_status"]) == ("mediated", "inquiry")


def test_the_mode_given_wins_over_the_workflows(api, pool, partner):
    answer = api.post(
        "/api/v1/sessions/",
        SESSION | {"workflow": "bespoke-inquiry", "mode": "direct"},
        format="json",
    ).json()

    assert answer["mode"] == "direct"


def test_the_partner_hears_of_a_new_booking_when_it_opens(
    whatsapp_api, api, pool, partner, opening_templates, run_tasks
):
    answer = run_tasks(api.post, "/api/v1/sessions/", SESSION, format="json").json()

    sent = whatsapp_api.last_to(PARTNER)
    assert sent["type"] == "template" and sent["template"]["name"] == "new_booking"
    values = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
    assert values[1] == "BK-1042" and CUSTOMER.lstrip("+") not in str(values)
    partner_answer = next(p for p in answer["participants"] if p["role"] == "partner")
    customer_answer = next(p for p in answer["participants"] if p["role"] == "customer")
    assert partner_answer["opening_queued"] is True
    assert partner_answer["opening"].startswith("queued: template new_booking")
    assert customer_answer["opening_queued"] is False and customer_answer["opening"] == ""
    assert not [p for p in whatsapp_api.sent if p.get("to") == CUSTOMER]


def test_an_opening_no_template_can_carry_is_said_in_words_and_alerts_an_operator(
    api, pool, partner
):
    answer = api.post("/api/v1/sessions/", SESSION, format="json").json()

    partner_answer = next(p for p in answer["participants"] if p["role"] == "partner")
    assert partner_answer["opening_queued"] is False
    assert "no approved template 'new_booking'" in partner_answer["opening"]
    alert = OperatorAlert.objects.get(kind="opening_template_missing")
    assert "BK-1042" in alert.message and PARTNER not in alert.message
    session = RelaySession.objects.get()
    assert session.timeline.filter(kind=EventKind.OPENING_UNSENT).exists()


@pytest.fixture
def booking(open_session):
    session = open_session()
    session.booking_status = "requested"
    session.save()
    return session


def test_a_booking_moves_only_as_its_workflow_allows(booking):
    booking_status_set(session=booking, to="confirmed")

    with pytest.raises(RelayError, match="cannot become requested; from confirmed: completed"):
        booking_status_set(session=booking, to="requested")
    with pytest.raises(RelayError, match="'shipped' is not a status of Coworking booking"):
        booking_status_set(session=booking, to="shipped")
    booking.refresh_from_db()
    assert booking.booking_status == "confirmed"
    changed = booking.timeline.get(kind=EventKind.BOOKING_STATUS_CHANGED)
    assert changed.detail == {"from": "requested", "to": "confirmed"}


@pytest.mark.parametrize(
    "statuses, transitions, problem",
    [
        ([], {}, "needs its booking statuses"),
        (["a", "a"], {}, "listed twice"),
        (["a", "b"], {"a": ["c"]}, "must be one of a, b"),
        (["a", "b"], {"a": "b"}, "a list"),
        (["a", "b"], {"a": ["b"]}, None),
    ],
)
def test_a_workflow_whose_statuses_cannot_work_is_refused(statuses, transitions, problem):
    found = workflow_problem(statuses, transitions)

    assert (found is None) if problem is None else (problem in found)


def test_every_demo_workflows_transitions_name_its_own_statuses(db):
    for workflow in Workflow.objects.all():
        assert workflow_problem(workflow.statuses, workflow.transitions) is None, workflow


def test_an_intake_number_names_a_known_workflow(api, pool):
    number = {"e164": "+15550002000", "phone_number_id": "2000", "pool": pool.pk}

    refused = api.post("/api/v1/numbers/", number | {"kind": "intake", "intake_workflow": "x"})
    made = api.post(
        "/api/v1/numbers/", number | {"kind": "intake", "intake_workflow": "export-feedback"}
    )

    assert refused.status_code == 400 and "valid workflows" in refused.json()["intake_workflow"][0]
    assert made.status_code == 201 and made.json()["intake_workflow"] == "export-feedback"
