"""CRM events, end to end against a real receiver on 127.0.0.1: written in the transaction of
their change, signed so the standardwebhooks library verifies them, delivered exactly once
and in order per booking through 500s, timeouts and refused connections, dead-lettered after
about a day, the endpoint paused, replayed; secrets rotated with an overlap."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from pytest_httpserver import HTTPServer
from werkzeug import Response

from crm_sync.delivery import RETRY_AFTER_SECONDS, deliveries_run
from crm_sync.models import Delivery, DeliveryStatus, Endpoint, OutboxEvent
from crm_sync.services import (
    endpoint_create,
    endpoint_replay,
    endpoint_resume,
    endpoint_rotate_secret,
    event_replay,
)
from relay.models import OperatorAlert, RelaySession, TimelineEvent
from routing.services.bookings import booking_status_set
from tests.crm_sync.conftest import send_all

START = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
REFUSING = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens there


@pytest.fixture
def clock(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def requested(session) -> RelaySession:
    RelaySession.objects.filter(pk=session.pk).update(booking_status="requested")
    session.refresh_from_db()
    return session


def retry_due(clock) -> None:
    """Past the next attempt of every pending delivery."""
    latest = max(Delivery.objects.values_list("next_attempt_at", flat=True))
    clock.move_to(latest + timedelta(seconds=1))


def test_an_event_row_exists_if_and_only_if_its_change_committed(endpoint, open_session):
    session = requested(open_session())
    opened = OutboxEvent.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        booking_status_set(session=session, to="confirmed")
        raise RuntimeError("the change fails after the status moved")

    assert OutboxEvent.objects.count() == opened  # nothing of the rolled-back change
    booking_status_set(session=session, to="confirmed")
    changed = OutboxEvent.objects.get(type="booking.status_changed")
    assert changed.data == {
        "session_id": session.pk,
        "external_ref": "BK-1001",
        "workflow": "booking",
        "from": "requested",
        "to": "confirmed",
    }
    assert changed.timeline_event == TimelineEvent.objects.get(kind="booking.status_changed")


def test_nothing_is_written_for_types_no_endpoint_receives(db, receiver, open_session):
    endpoint_create(url=receiver.url, events=["booking.status_changed"])

    open_session()

    assert not OutboxEvent.objects.exists()  # session.opened: nobody subscribes


def test_a_delivery_is_signed_so_the_standard_library_verifies_it(endpoint, receiver, open_session):
    session = requested(open_session())
    booking_status_set(session=session, to="confirmed")

    send_all()

    assert receiver.types() == ["session.opened", "booking.status_changed"]
    delivery = receiver.received[1]
    assert delivery["verified"] == [0]
    event = OutboxEvent.objects.get(type="booking.status_changed")
    assert delivery["headers"]["Webhook-Id"] == event.event_id
    assert delivery["body"] == {
        "type": "booking.status_changed",
        "timestamp": event.occurred_at.isoformat(),
        "data": event.data,
    }
    assert "+1415" not in str(receiver.received)  # no real number in any event


def test_failures_of_every_kind_then_success_deliver_each_event_once_and_in_order(
    clock, endpoint, receiver, open_session
):
    session = requested(open_session())
    booking_status_set(session=session, to="confirmed")
    booking_status_set(session=session, to="completed")
    receiver.script = [500, None, 503]  # a 500, a timeout, a 503

    for _ in range(3):
        send_all()
        retry_due(clock)
    Endpoint.objects.filter(pk=endpoint.pk).update(url=REFUSING)  # refused once
    send_all()
    retry_due(clock)
    Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    send_all()

    events = list(OutboxEvent.objects.order_by("pk").values_list("event_id", flat=True))
    assert receiver.taken == events  # each once, in order
    assert receiver.types()[:4] == ["session.opened"] * 4  # later ones waited their turn
    first = Delivery.objects.get(event__event_id=events[0])
    assert [a.status_code for a in first.tries.order_by("pk")] == [500, None, 503, None, 200]
    assert "no answer within" in first.tries.order_by("pk")[1].error
    assert "could not connect" in first.tries.order_by("pk")[3].error
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_failing_booking_holds_back_only_its_own_events(clock, endpoint, receiver, open_session):
    stuck = requested(open_session("BK-1", customer="+14155550001"))
    receiver.script = [500]  # BK-1's opening fails once
    flowing = requested(open_session("BK-2", customer="+14155550002"))
    booking_status_set(session=stuck, to="confirmed")
    booking_status_set(session=flowing, to="confirmed")

    send_all()

    taken = OutboxEvent.objects.filter(event_id__in=receiver.taken)
    assert sorted(taken.values_list("external_ref", "type")) == [
        ("BK-2", "booking.status_changed"),
        ("BK-2", "session.opened"),
    ]
    retry_due(clock)
    send_all()
    assert OutboxEvent.objects.filter(event_id__in=receiver.taken).count() == 4


def test_a_dead_endpoint_does_not_delay_a_healthy_one(db, receiver, open_session):
    endpoint_create(url=REFUSING, events=["*"])
    healthy, _ = endpoint_create(url=receiver.url, events=["*"])
    session = requested(open_session())
    booking_status_set(session=session, to="confirmed")

    send_all()

    assert len(receiver.taken) == 2
    dead = Delivery.objects.exclude(endpoint=healthy)
    # Its first is retried later; the second waits behind it, in order.
    assert list(dead.order_by("pk").values_list("status", "attempts")) == [
        (DeliveryStatus.PENDING, 1),
        (DeliveryStatus.PENDING, 0),
    ]


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_that_never_answers_holds_only_its_share_of_senders(
    receiver, open_session, settings
):
    """With four senders and two allowed per endpoint, deliveries to a healthy endpoint go
    while two senders wait on one that never answers."""
    if connection.vendor != "postgresql":
        pytest.skip("several senders at once need a database with row locks")
    settings.CRM_TIMEOUT_SECONDS = 3.0
    slow = HTTPServer(host="127.0.0.1", threaded=True)  # a server of its own: it hangs
    slow.expect_request("/slow", method="POST").respond_with_handler(
        lambda request: time.sleep(3) or Response("late")
    )
    slow.start()
    endpoint_create(url=slow.url_for("/slow"), events=["*"])
    endpoint_create(url=receiver.url, events=["*"])
    for n in range(4):
        open_session(f"BK-{n}", customer=f"+141555500{n}0")
    stop = threading.Event()
    senders = threading.Thread(target=deliveries_run, args=(stop,), kwargs={"senders": 4})

    started = time.monotonic()
    senders.start()
    while len(receiver.taken) < 4 and time.monotonic() - started < 2.5:
        time.sleep(0.05)
    stop.set()
    senders.join()
    slow.stop()

    assert len(receiver.taken) == 4  # all four, before the slow endpoint answered anything


def test_after_a_day_of_failures_dead_letter_pause_alert_then_replay(
    clock, endpoint, receiver, open_session
):
    Endpoint.objects.filter(pk=endpoint.pk).update(url=REFUSING)
    open_session()

    for _ in range(len(RETRY_AFTER_SECONDS) + 1):
        send_all()
        if Delivery.objects.filter(status=DeliveryStatus.PENDING).exists():
            retry_due(clock)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 14)
    assert timedelta(hours=18) < delivery.tries.last().at - START < timedelta(hours=28)
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None and "a day" in endpoint.paused_reason
    assert OperatorAlert.objects.filter(kind="crm_endpoint_paused").exists()

    Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    assert endpoint_replay(endpoint, since=START) == 1
    send_all()
    assert receiver.taken == []  # paused: it waits
    endpoint_resume(endpoint)
    send_all()
    assert receiver.taken == [delivery.event.event_id]


def test_a_replayed_event_goes_again_with_the_same_id(endpoint, receiver, open_session):
    open_session()
    send_all()
    event = OutboxEvent.objects.get()

    assert event_replay(event) == 1
    send_all()

    assert receiver.taken == [event.event_id, event.event_id]


def test_a_rotated_secret_and_the_old_one_both_sign_for_a_day(
    clock, endpoint, receiver, open_session
):
    receiver.secrets.append(endpoint_rotate_secret(endpoint))
    open_session("BK-1", customer="+14155550001")
    send_all()
    assert receiver.received[-1]["verified"] == [0, 1]  # the old secret and the new one

    clock.move_to(START + timedelta(hours=25))
    open_session("BK-2", customer="+14155550002")
    send_all()

    assert receiver.received[-1]["verified"] == [1]  # the new one alone
    assert len(receiver.received[-1]["headers"]["Webhook-Signature"].split(" ")) == 1


def test_message_text_goes_only_to_an_endpoint_allowed_to_receive_it(
    db, receiver, httpserver, whatsapp_api, open_session, post_webhook
):
    from tests.relay.conftest import CUSTOMER, open_windows, participant, write

    endpoint_create(url=receiver.url, events=["message.relayed"])
    allowed = []
    httpserver.expect_request("/text", method="POST").respond_with_handler(
        lambda request: allowed.append(request.get_json()) or receiver.handle(request)
    )
    endpoint_create(url=httpserver.url_for("/text"), events=["message.relayed"], include_text=True)
    session = open_session()
    open_windows(session)

    write(
        post_webhook,
        CUSTOMER,
        participant(session, "customer").proxy_number,
        body="Hi, call +14155550999",
    )
    send_all()

    without, with_text = sorted(receiver.received, key=lambda r: "text" in r["body"]["data"])
    assert "text" not in without["body"]["data"]
    assert "call" in with_text["body"]["data"]["text"]
    assert "4155550999" not in with_text["body"]["data"]["text"]  # as the guard passed it on
