"""The inbox list: filters, search, sort, unread counts and paging, at a constant number of
queries whatever the page holds."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relay.models import Message, RelaySession
from routing.models import RoutingDecision
from sla.models import SlaClock
from sla.services import policy_create
from tests.inbox.conftest import logged_in

pytestmark = pytest.mark.django_db


def many_sessions(open_session, desk, count: int) -> list[RelaySession]:
    return [
        open_session(f"BK-{3000 + n}", customer=f"+1415555{n:04d}", team=desk) for n in range(count)
    ]


def refs(response) -> list[str]:
    return [row["session"].external_ref for row in response.context["rows"]]


def inbound(session, body: str, status: str = "relayed") -> Message:
    customer = session.participants.get(role="customer")
    return Message.objects.create(
        session=session,
        participant=customer,
        contact=customer.contact,
        proxy_number=customer.proxy_number,
        direction="in",
        origin="participant",
        type="text",
        body=body,
        payload={"type": "text", "text": {"body": body}},
        status=status,
    )


def test_a_page_costs_the_same_queries_whatever_it_holds(alice, desk, open_session, settings):
    sessions = many_sessions(open_session, desk, 30)
    version = policy_create(name="p", workflow="booking", targets={"confirmation": 600}).current
    for session in sessions:
        inbound(session, "hello")
        SlaClock.objects.create(
            session=session, clock="confirmation", version=version,
            started_at=timezone.now(), due_at=timezone.now() + timedelta(minutes=5),
            warns_at=timezone.now() - timedelta(minutes=1),
        )  # fmt: skip
    client = logged_in(alice)

    def queries(url: str) -> int:
        client.get(url)  # the session and the user are loaded once per request either way
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), len(response.context["rows"])

    few = queries("/inbox/?q=BK-3001")  # BK-3001 alone
    full = queries("/inbox/")
    sorted_by_sla = queries("/inbox/?sort=sla&attention=at_risk")
    assert few[1] == 1 and full[1] == sorted_by_sla[1] == 25
    assert few[0] == full[0] == sorted_by_sla[0]


def test_filters_narrow_the_list(alice, desk, open_session, partner):
    bookings = many_sessions(open_session, desk, 4)
    mine, held, triaged, tagged = bookings
    RelaySession.objects.filter(pk=mine.pk).update(assignee=alice, booking_status="confirmed")
    inbound(held, "a question", status="awaiting_agent")
    RoutingDecision.objects.create(session=triaged, triage=True)
    RelaySession.objects.filter(pk=tagged.pk).update(tags=["vip"])
    client = logged_in(alice)

    assert refs(client.get("/inbox/?who=mine")) == ["BK-3000"]
    assert "BK-3000" not in refs(client.get("/inbox/?who=unassigned"))
    assert refs(client.get("/inbox/?attention=waiting")) == ["BK-3001"]
    assert refs(client.get("/inbox/?attention=triage")) == ["BK-3002"]
    assert refs(client.get("/inbox/?tag=vip")) == ["BK-3003"]
    assert refs(client.get("/inbox/?booking_status=confirmed")) == ["BK-3000"]
    assert refs(client.get("/inbox/?partner=loc-a&team=desk&workflow=booking")) != []
    assert refs(client.get("/inbox/?workflow=bespoke-inquiry")) == []


def test_sla_filters_and_sort(alice, desk, open_session):
    calm, at_risk, breached = many_sessions(open_session, desk, 3)
    version = policy_create(name="p", workflow="booking", targets={"confirmation": 600}).current
    now = timezone.now()
    for session, due in ((calm, 50), (at_risk, 4), (breached, -3)):
        SlaClock.objects.create(
            session=session, clock="confirmation", version=version, started_at=now,
            due_at=now + timedelta(minutes=due), warns_at=now + timedelta(minutes=due - 8),
        )  # fmt: skip
    client = logged_in(alice)
    assert refs(client.get("/inbox/?attention=at_risk")) == ["BK-3001"]
    assert refs(client.get("/inbox/?attention=breached")) == ["BK-3002"]
    assert refs(client.get("/inbox/?sort=sla")) == ["BK-3002", "BK-3001", "BK-3000"]


def test_search_by_reference_name_and_text(alice, desk, open_session):
    first, second = many_sessions(open_session, desk, 2)
    inbound(second, "The stitching is loose on twenty pieces")
    client = logged_in(alice)
    assert refs(client.get("/inbox/?q=bk-3000")) == ["BK-3000"]
    assert refs(client.get("/inbox/?q=stitching")) == ["BK-3001"]
    assert set(refs(client.get("/inbox/?q=sam"))) == {"BK-3000", "BK-3001"}
    assert refs(client.get("/inbox/?q=nothing-like-it")) == []


def test_last_activity_first_with_unread_counts(alice, desk, open_session):
    older, newer = many_sessions(open_session, desk, 2)
    inbound(older, "one")
    inbound(older, "two")
    now = timezone.now()
    RelaySession.objects.filter(pk=older.pk).update(last_interaction_at=now)
    RelaySession.objects.filter(pk=newer.pk).update(last_interaction_at=now - timedelta(hours=1))
    client = logged_in(alice)
    response = client.get("/inbox/")
    assert refs(response) == ["BK-3000", "BK-3001"]
    assert [row["session"].unread for row in response.context["rows"]] == [2, 0]

    client.get(f"/inbox/sessions/{older.pk}/")  # read
    assert client.get("/inbox/").context["rows"][0]["session"].unread == 0
    inbound(older, "three")
    assert client.get("/inbox/").context["rows"][0]["session"].unread == 1


def test_paging_and_ended_sessions(alice, desk, open_session):
    sessions = many_sessions(open_session, desk, 27)
    RelaySession.objects.filter(pk=sessions[0].pk).update(status="closed")
    client = logged_in(alice)
    first = client.get("/inbox/")
    assert first.context["listing"].total == 26 and len(first.context["rows"]) == 25
    assert len(client.get("/inbox/?page=2").context["rows"]) == 1
    assert refs(client.get("/inbox/?state=ended")) == ["BK-3000"]
    assert client.get("/inbox/?page=99").status_code == 200  # the last page


def test_a_bad_filter_is_shown_and_ignored(alice, desk, open_session):
    many_sessions(open_session, desk, 1)
    response = logged_in(alice).get("/inbox/?sort=nonsense&team=nowhere")
    assert response.status_code == 200
    assert refs(response) == ["BK-3000"]
    assert "Select a valid choice" in response.content.decode()


def test_the_list_refreshes_as_a_fragment(alice, desk, open_session):
    many_sessions(open_session, desk, 1)
    response = logged_in(alice).get(
        "/inbox/", headers={"HX-Request": "true", "HX-Target": "session-list"}
    )
    body = response.content.decode()
    assert body.startswith("{") is False and 'id="session-list"' in body
    assert "<html" not in body
