"""What probing found: statuses that went backwards, order lost under retries, failed
webhooks that starved good ones, bodies that answered 500, items that silently vanished,
payloads too large for one task."""

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from relay.choices import MessageStatus, Origin, TextKey
from relay.models import Message, WebhookPayload
from relay.providers.base import Failure, ProviderError
from relay.providers.whatsapp import WhatsAppProvider
from relay.services.delivery import messages_send_due
from relay.services.queueing import message_queue
from relay.services.statuses import status_apply
from relay.services.webhooks import webhook_store, webhooks_process_due
from relay.tasks import sweep
from relay.worker import drain
from tests.conftest import at_the_same_instant, skip_unless_postgresql
from tests.relay import wa
from tests.relay.conftest import CUSTOMER, PARTNER, open_windows, participant
from tests.relay.texts import english

URL = "/webhooks/whatsapp/"


def post_raw(body: bytes):
    return Client().post(
        URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=wa.sign(body)
    )


class TestStatusesOnlyMoveForward:
    def test_a_sent_status_that_beats_the_timeout_keeps_the_message_sent(
        self, whatsapp_api, session, run_tasks, monkeypatch, clock
    ):
        send = WhatsAppProvider.send

        def timed_out_after_meta_took_it(provider, *, phone_number_id, payload):
            wamid = send(provider, phone_number_id=phone_number_id, payload=payload)
            # Meta's "sent" webhook is handled while our request still waits for its answer.
            callback = payload["biz_opaque_callback_data"]
            status_apply(wa.status(wamid, "sent", callback=callback))
            raise ProviderError("no answer from WhatsApp after sending", failure=Failure.UNCERTAIN)

        monkeypatch.setattr(WhatsAppProvider, "send", timed_out_after_meta_took_it)
        original = write_from_customer(run_tasks, session)
        copy = Message.objects.get(source=original)
        assert copy.status == MessageStatus.SENT

        clock.shift(timedelta(hours=2))
        run_tasks(sweep)

        copy.refresh_from_db()
        assert copy.status == MessageStatus.SENT and copy.failed_at is None
        assert whatsapp_api.texts_to(CUSTOMER) == []  # nobody is told it failed
        assert Message.objects.get(pk=original.pk).status == MessageStatus.RELAYED

    def test_an_uncertain_send_confirmed_while_being_given_up_stays_confirmed(
        self, whatsapp_api, session, clock
    ):
        message = message_queue(participant=participant(session, "partner"), origin=Origin.API)[0]
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.UNCERTAIN, sending_started_at=timezone.now()
        )
        status_apply(wa.status("wamid.meta", "delivered", callback=str(message.pk)))
        clock.shift(timedelta(hours=2))

        sweep()

        message.refresh_from_db()
        assert message.status == MessageStatus.DELIVERED


def write_from_customer(run_tasks, session, body="hello") -> Message:
    from relay.services.inbound import inbound_receive

    customer = participant(session, "customer")
    item = wa.message(CUSTOMER, body=body)
    return run_tasks(inbound_receive, number=customer.proxy_number, raw=item, profile={})


class TestOrderWithinAConversation:
    def test_a_later_message_waits_for_an_earlier_one_being_retried(
        self, whatsapp_api, session, run_tasks, clock
    ):
        whatsapp_api.fail_next(131000, http_status=500)  # the first try of "one" fails
        for text in ("one", "two", "three"):
            run_tasks(
                message_queue,
                participant=participant(session, "partner"),
                origin=Origin.API,
                body=text,
            )
        assert whatsapp_api.texts_to(PARTNER) == []

        clock.shift(timedelta(minutes=5))
        drain()

        assert whatsapp_api.texts_to(PARTNER) == ["one", "two", "three"]

    def test_an_invitation_goes_ahead_of_what_waits_for_its_answer(
        self, whatsapp_api, open_session, run_tasks
    ):
        session = open_session()  # the partner's window is closed
        for text in ("one", "two"):
            run_tasks(
                message_queue,
                participant=participant(session, "partner"),
                origin=Origin.API,
                body=text,
            )

        assert [p["type"] for p in whatsapp_api.sent] == ["template"]
        assert Message.objects.filter(status=MessageStatus.HELD).count() == 2

    @pytest.mark.django_db(transaction=True)
    def test_workers_claiming_at_once_keep_each_conversation_in_order(
        self, whatsapp_api, open_session, settings
    ):
        skip_unless_postgresql()
        settings.RELAY_INLINE_WORK = False  # two workers do the sending here
        sessions = [open_session(f"BK-{n}", customer=f"+1415555030{n}") for n in range(3)]
        for session in sessions:
            open_windows(session)
            for n in range(6):
                message_queue(
                    participant=participant(session, "customer"),
                    origin=Origin.API,
                    body=f"{session.external_ref} #{n}",
                )

        for _ in range(10):
            at_the_same_instant(
                lambda: messages_send_due(limit=5), lambda: messages_send_due(limit=5)
            )

        for n, session in enumerate(sessions):
            phone = f"+1415555030{n}"
            expected = [f"{session.external_ref} #{i}" for i in range(6)]
            assert whatsapp_api.texts_to(phone) == expected


class TestWebhookQueue:
    def test_a_new_payload_goes_before_retries_of_failed_ones(
        self, db, pool, monkeypatch, settings
    ):
        settings.RELAY_INLINE_WORK = False

        def broken(**kwargs):
            raise RuntimeError("a bad payload")

        monkeypatch.setattr("relay.services.webhooks.inbound_receive", broken)
        for _ in range(120):
            webhook_store(body=wa.encode(wa.envelope("1001", messages=[wa.message(CUSTOMER)])))
        while webhooks_process_due(limit=50):
            pass  # every bad one failed once; all are due again later
        WebhookPayload.objects.update(next_attempt_at=timezone.now())  # ...and now
        monkeypatch.undo()
        good = webhook_store(body=wa.encode(wa.envelope("1001", statuses=[])))

        webhooks_process_due(limit=50)

        assert WebhookPayload.objects.get(pk=good).processed_at is not None

    def test_a_large_payload_is_handled_in_slices(self, whatsapp_api, session, settings):
        settings.RELAY_WEBHOOK_SLICE_SECONDS = 0  # each round stops after one item
        settings.RELAY_PAIR_BURST = 100
        number = participant(session, "customer").proxy_number
        items = [wa.message(CUSTOMER, body=f"m{i}") for i in range(12)]
        settings.RELAY_INLINE_WORK = False
        payload_id = webhook_store(
            body=wa.encode(wa.envelope(number.phone_number_id, messages=items))
        )

        rounds = 0
        while webhooks_process_due(limit=1):
            messages_send_due(limit=50)
            rounds += 1

        payload = WebhookPayload.objects.get(pk=payload_id)
        assert rounds == 12 and payload.processed_at is not None and payload.attempts == 1
        assert whatsapp_api.texts_to(PARTNER) == [f"m{i}" for i in range(12)]


class TestBodiesThatAreNotWebhooks:
    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"[]", "not a webhook"),
            (b"null", "not a webhook"),
            (b"NaN", "NaN is not JSON"),
            (b'"whatsapp"', "not a webhook"),
            (b'{"object": "page", "entry": []}', "not a webhook"),
            (b'{"object": "whatsapp_business_account"}', 'no "entry" list'),
            (b'\xef\xbb\xbf{"object": "whatsapp_business_account", "entry": []}', "byte order"),
            ('{"object": "whatsapp_business_account", "entry": []}'.encode("utf-16"), "UTF-8"),
            ('{"object": "whatsapp_business_account", "entry": []}'.encode("utf-32"), "UTF-8"),
            (b'{"entry": [], "x": "\xed\xa0\x80"}', "UTF-8"),  # an encoded lone surrogate
            (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
            (b"{", "not JSON"),
        ],
        ids=[
            "list",
            "null",
            "nan",
            "string",
            "other-object",
            "no-entry",
            "bom",
            "utf-16",
            "utf-32",
            "surrogate-bytes",
            "deep",
            "truncated",
        ],
    )
    def test_a_signed_body_that_is_not_a_webhook_is_a_400_and_is_not_stored(self, db, body, reason):
        response = post_raw(body)

        assert response.status_code == 400
        assert reason in response.content.decode()
        assert not WebhookPayload.objects.exists()


class TestItemsThatCannotBeStoredAsTheyCame:
    def test_nul_and_lone_surrogates_are_cleaned_the_rest_relayed_and_the_sender_told(
        self, whatsapp_api, session, post_webhook
    ):
        number = participant(session, "customer").proxy_number
        item = wa.message(CUSTOMER, body="desk\x00 4 \ud83d please")  # JSON escapes both

        response = post_webhook(wa.envelope(number.phone_number_id, messages=[item]))

        assert response.status_code == 200
        assert whatsapp_api.texts_to(PARTNER) == ["desk 4 \ufffd please"]
        assert whatsapp_api.texts_to(CUSTOMER) == [english(TextKey.PARTLY_UNREADABLE)]
        assert WebhookPayload.objects.get().processed_at is not None

    @pytest.mark.parametrize("timestamp", ["99999999999999999999", "-1e30", "9999999999"])
    def test_an_impossible_timestamp_is_taken_as_now(
        self, whatsapp_api, session, post_webhook, timestamp
    ):
        number = participant(session, "customer").proxy_number
        item = wa.message(CUSTOMER, body="hi") | {"timestamp": timestamp}

        post_webhook(wa.envelope(number.phone_number_id, messages=[item]))

        assert whatsapp_api.texts_to(PARTNER) == ["hi"]
        inbound = Message.objects.get(direction="in")
        assert abs(inbound.wa_timestamp - timezone.now()) < timedelta(minutes=1)

    def test_an_item_that_keeps_failing_logs_its_traceback_once(
        self, db, pool, post_webhook, monkeypatch, clock, caplog
    ):
        def broken(**kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr("relay.services.webhooks.inbound_receive", broken)
        with caplog.at_level(logging.WARNING, logger="relay.services.webhooks"):
            post_webhook(wa.envelope("1001", messages=[wa.message(CUSTOMER)]))
            for _ in range(3):
                clock.shift(timedelta(hours=2))
                drain()

        tracebacks = [r for r in caplog.records if r.exc_info]
        assert len(tracebacks) == 1
        assert WebhookPayload.objects.get().attempts == 4


@pytest.mark.django_db(transaction=True)
def test_workers_handling_webhooks_at_once_keep_a_conversation_in_order(
    whatsapp_api, open_session, settings
):
    skip_unless_postgresql()
    from relay.webhooks.envelope import conversation_of

    settings.RELAY_INLINE_WORK = False
    settings.RELAY_PAIR_BURST = 100
    session = open_session()
    open_windows(session)
    number = participant(session, "customer").proxy_number.phone_number_id
    for n in range(12):
        envelope = wa.envelope(number, messages=[wa.message(CUSTOMER, body=f"#{n:02d}")])
        webhook_store(body=wa.encode(envelope), conversation=conversation_of(envelope))

    for _ in range(12):
        at_the_same_instant(
            lambda: webhooks_process_due(limit=4), lambda: webhooks_process_due(limit=4)
        )
    while messages_send_due(limit=50):
        pass

    assert whatsapp_api.texts_to(PARTNER) == [f"#{n:02d}" for n in range(12)]
