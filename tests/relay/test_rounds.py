"""Rounds: what a worker claims together is handled together, in few statements, and one
failure never costs the others their message."""

import logging

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_httpserver import HTTPServer

from relay import worker
from relay.choices import EventKind, MessageStatus, Origin
from relay.deferred import writes_deferred
from relay.models import Message, OutboundHold, TimelineEvent, WebhookPayload
from relay.prefetch import prefetch_take, prefetching
from relay.services import threads
from relay.services.delivery import messages_send_due
from relay.services.queueing import message_queue, notice_queue
from relay.services.sessions import session_close
from relay.services.webhooks import webhooks_process_due
from relay.timeline import timeline_batch
from tests.relay import wa
from tests.relay.conftest import PARTNER, open_windows, participant
from tests.relay.fake_graph import FakeGraph

CUSTOMERS = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"]


@pytest.fixture
def sessions(open_session, settings):
    """A session for each customer, windows open; nothing runs until a test says so."""
    settings.RELAY_INLINE_WORK = False
    opened = [open_session(f"BK-{i}", customer=phone) for i, phone in enumerate(CUSTOMERS)]
    for session in opened:
        open_windows(session)
    return opened


def store(session, *bodies: str) -> None:
    """The session's customer wrote `bodies`, in one webhook; it is stored, not handled."""
    number = participant(session, "customer").proxy_number
    customer = participant(session, "customer").contact.phone
    post(number, [wa.message(customer, body=body) for body in bodies])


def post(number, items: list[dict]) -> None:
    """A webhook with `items` to `number` is stored, not handled."""
    payload = wa.encode(wa.envelope(number.phone_number_id, messages=items))
    response = Client().post(
        "/webhooks/whatsapp/",
        data=payload,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=wa.sign(payload),
    )
    assert response.status_code == 200


def copies_to_partner() -> list[str]:
    """What was queued for the partner, without the booking line a shared number adds."""
    copies = Message.objects.filter(origin=Origin.RELAYED).order_by("id")
    return [m.body.splitlines()[-1] for m in copies if m.contact.phone == PARTNER]


def statements_to_handle(payload_count: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert webhooks_process_due(limit=payload_count) == payload_count
    return len(queries)


def test_payloads_claimed_together_are_handled_in_far_fewer_statements(db, sessions):
    for i, session in enumerate(sessions):
        store(session, f"hello {i}")
    together = statements_to_handle(len(sessions))

    for i, session in enumerate(sessions):
        store(session, f"again {i}")
    one_by_one = sum(statements_to_handle(1) for _ in sessions)

    assert sorted(copies_to_partner()) == sorted(
        [f"hello {i}" for i in range(4)] + [f"again {i}" for i in range(4)]
    )
    assert together < one_by_one * 0.6, (together, one_by_one)


def test_two_messages_of_one_sender_in_a_round_are_both_relayed_in_order(db, sessions):
    store(sessions[0], "first", "second")
    store(sessions[1], "other")
    webhooks_process_due(limit=50)

    assert copies_to_partner() == ["first", "second", "other"]
    assert WebhookPayload.objects.filter(processed_at__isnull=True).count() == 0


def test_a_message_delivered_twice_in_one_round_is_relayed_once(db, sessions):
    number = participant(sessions[0], "customer").proxy_number
    item = wa.message(CUSTOMERS[0], body="only once")
    for _ in range(2):
        post(number, [item])
    store(sessions[1], "other")

    assert webhooks_process_due(limit=50) == 3
    assert copies_to_partner() == ["only once", "other"]
    assert Message.objects.filter(provider_message_id=item["id"]).count() == 1


def test_a_round_takes_in_a_sender_it_has_never_seen(db, sessions):
    stranger = "+14155550199"
    number = participant(sessions[0], "customer").proxy_number
    post(number, [wa.message(stranger)])
    store(sessions[1], "known")

    webhooks_process_due(limit=50)

    assert copies_to_partner() == ["known"]
    unknown = Message.objects.get(direction="in", status=MessageStatus.OUT_OF_SESSION)
    assert unknown.contact.phone == stranger


def test_a_failing_message_sends_its_round_back_to_one_payload_at_a_time(
    db, sessions, monkeypatch, caplog
):
    from relay.services import relaying

    relay = relaying.inbound_relay

    def fails_on_boom(*, message, participant):
        if message.body == "boom":
            raise RuntimeError("relaying failed")
        relay(message=message, participant=participant)

    monkeypatch.setattr(relaying, "inbound_relay", fails_on_boom)
    for body, session in zip(["one", "boom", "three"], sessions, strict=False):
        store(session, body)

    with caplog.at_level(logging.INFO):
        assert webhooks_process_due(limit=50) == 3

    # Nothing the round did stayed; each payload was then handled alone.
    assert sorted(copies_to_partner()) == ["one", "three"]
    assert Message.objects.filter(body="boom").count() == 0
    failed = WebhookPayload.objects.get(processed_at__isnull=True)
    assert failed.attempts == 1 and "RuntimeError" in failed.error
    assert len([r for r in caplog.records if r.exc_info]) == 1  # one traceback, the item's
    received = TimelineEvent.objects.filter(kind=EventKind.MESSAGE_RECEIVED).count()
    assert received == 2


def test_a_session_change_makes_what_was_read_ahead_of_it_be_read_again(db, sessions):
    closing, staying = (participant(s, "customer") for s in sessions[:2])
    pairs = {p.pk: (p.contact_id, p.proxy_number_id) for p in (closing, staying)}
    with prefetching():
        threads.bindings_prefetch(set(pairs.values()))
        session_close(session=sessions[0])
        assert prefetch_take("bindings", pairs[staying.pk]) is None
    with prefetching():
        threads.bindings_prefetch(set(pairs.values()))
        assert prefetch_take("bindings", pairs[closing.pk]) == []  # nobody is bound there now
        bindings = prefetch_take("bindings", pairs[staying.pk])
        assert staying in bindings
        assert prefetch_take("bindings", pairs[staying.pk]) is bindings  # the same objects


@pytest.fixture
def threaded_graph(settings):
    """A fake Graph API that answers several sends at once, each after a moment."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    settings.WHATSAPP_API_BASE = server.url_for("/v25.0")
    settings.RELAY_PROVIDER = "whatsapp"
    graph = FakeGraph(server)
    graph.answer_after = 0.2
    yield graph
    server.clear()
    server.stop()


def queue_to_customers(sessions) -> list[Message]:
    return [
        message_queue(participant=participant(s, "customer"), origin=Origin.API, body=f"to {i}")[0]
        for i, s in enumerate(sessions)
    ]


def test_a_round_of_sends_goes_out_several_at_a_time(db, sessions, threaded_graph, settings):
    settings.RELAY_SEND_CONCURRENCY = 4
    queued = queue_to_customers(sessions)

    assert messages_send_due(limit=50) == len(queued)

    assert threaded_graph.most_in_flight > 1
    assert sorted(p["text"]["body"] for p in threaded_graph.sent) == [f"to {i}" for i in range(4)]
    for message in Message.objects.filter(pk__in=[m.pk for m in queued]):
        assert message.status == MessageStatus.SENT and message.attempts == 1
        assert message.provider_message_id.startswith("wamid.out")


def test_a_halt_leaves_what_had_not_started_untried(db, sessions, whatsapp_api, settings):
    settings.RELAY_SEND_CONCURRENCY = 1
    queued = queue_to_customers(sessions)
    whatsapp_api.fail_next(190, http_status=401)  # the token no longer works

    messages_send_due(limit=50)

    assert OutboundHold.objects.filter(cleared_at__isnull=True).exists()
    assert whatsapp_api.sent == []
    for message in Message.objects.filter(pk__in=[m.pk for m in queued]):
        assert message.status == MessageStatus.QUEUED
        assert message.attempts == (1 if message.pk == queued[0].pk else 0)
    worker.drain()  # nothing goes while sending is paused
    assert whatsapp_api.sent == []


def test_the_copies_a_round_makes_are_written_in_one_statement(db, sessions):
    for i, session in enumerate(sessions):
        store(session, f"hello {i}")
    with CaptureQueriesContext(connection) as queries:
        webhooks_process_due(limit=50)

    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "relay_message"')]
    assert len(inserts) == 2, [q["sql"][:80] for q in inserts]  # the messages, their copies
    assert copies_to_partner() == [f"hello {i}" for i in range(4)]


def test_a_reply_to_a_message_of_the_same_round_keeps_its_reply_context(db, sessions):
    number = participant(sessions[0], "customer").proxy_number
    first = wa.message(CUSTOMERS[0], body="first")
    second = wa.message(CUSTOMERS[0], body="second", context={"id": first["id"]})
    post(number, [first])
    post(number, [second])
    store(sessions[1], "other")
    webhooks_process_due(limit=50)

    copies = Message.objects.filter(origin=Origin.RELAYED).order_by("id")
    copy_of_first, copy_of_second = (
        copy for copy in copies if copy.body.endswith(("first", "second"))
    )
    assert copy_of_second.reply_to_id == copy_of_first.pk


def test_a_row_written_while_copies_wait_comes_after_them(db, sessions):
    customer = participant(sessions[0], "customer")
    with transaction.atomic(), timeline_batch(), writes_deferred():
        (waiting,) = message_queue(participant=customer, origin=Origin.API, body="made first")
        assert waiting.pk is None
        notice = notice_queue(
            contact=customer.contact, proxy_number=customer.proxy_number, text="made next"
        )
    assert waiting.pk < notice.pk
    assert TimelineEvent.objects.filter(message=waiting, kind=EventKind.MESSAGE_QUEUED).exists()


def test_a_round_reads_the_sessions_of_its_senders_once(db, sessions):
    for i, session in enumerate(sessions):
        store(session, f"first {i}", f"second {i}")
    with CaptureQueriesContext(connection) as queries:
        webhooks_process_due(limit=50)

    reads = [q for q in queries if q["sql"].startswith('SELECT "relay_participant"')]
    assert len(reads) == 1, len(reads)
    assert copies_to_partner() == [f"{n} {i}" for i in range(4) for n in ("first", "second")]


def test_a_choice_made_in_the_round_of_the_question_it_answers_takes_the_question_along(
    db, open_session, single_number_pool, settings
):
    settings.RELAY_INLINE_WORK = False
    shared = [open_session(f"BK-{i}", pool=single_number_pool) for i in (1, 2)]
    for session in shared:
        open_windows(session)
    chosen = participant(shared[1], "customer")
    number, customer = chosen.proxy_number, chosen.contact.phone
    reply = {"id": f"thread:{chosen.pk}", "title": shared[1].external_ref}
    post(number, [wa.message(customer, body="Can I bring a guest?")])
    choice = {"type": "list_reply", "list_reply": reply}
    post(number, [wa.message(customer, type="interactive", interactive=choice)])

    assert webhooks_process_due(limit=50) == 2

    relayed = Message.objects.filter(origin=Origin.RELAYED).get()
    assert relayed.session_id == shared[1].pk
    assert relayed.body.endswith("Can I bring a guest?")
