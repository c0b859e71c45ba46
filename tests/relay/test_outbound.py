"""Outbound: the 24-hour window, retries and backoff by error, no double sends, statuses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from relay.choices import EventKind, MessageStatus, Origin, TextKey
from relay.models import (
    Leg,
    Message,
    OperatorAlert,
    OutboundHold,
    ProxyNumber,
    TimelineEvent,
    WebhookPayload,
)
from relay.services.delivery import message_deliver
from relay.services.holds import outbound_resume
from relay.services.queueing import message_queue
from relay.tasks import sweep
from relay.worker import drain
from tests.relay import wa
from tests.relay.conftest import (
    CUSTOMER,
    PARTNER,
    participant,
    send_to_partner,
    write,
)
from tests.relay.texts import english


def refreshed(message: Message) -> Message:
    message.refresh_from_db()
    return message


def wait_until_due(clock, message: Message) -> None:
    """Let the clock run on until the message's retry is due."""
    clock.move_to(refreshed(message).next_attempt_at + timedelta(seconds=1), tick=False)


class TestWindow:
    def test_outside_the_window_a_template_goes_and_the_text_waits(
        self, whatsapp_api, open_session, run_tasks
    ):
        session = open_session()  # nobody has written yet: both windows closed
        message = send_to_partner(run_tasks, session, "Your booking is confirmed")

        assert refreshed(message).status == MessageStatus.HELD
        [template] = whatsapp_api.sent
        assert template["type"] == "template" and template["to"] == PARTNER
        assert template["template"]["name"] == "new_message_notice"
        # The template names who wrote, never what they wrote or their number.
        assert template["template"]["components"][0]["parameters"] == [
            {"type": "text", "text": "Sam"}
        ]

    def test_held_messages_follow_in_order_when_the_recipient_writes(
        self, whatsapp_api, open_session, run_tasks, post_webhook
    ):
        session = open_session()
        for text in ("one", "two", "three"):
            send_to_partner(run_tasks, session, text)
        assert sum(p["type"] == "template" for p in whatsapp_api.sent) == 1  # one invitation

        write(
            post_webhook,
            PARTNER,
            participant(session, "partner").proxy_number,
            body="hi, what's up?",
        )

        assert whatsapp_api.texts_to(PARTNER) == ["one", "two", "three"]

    def test_window_closed_at_send_time_falls_back_to_the_template(
        self, whatsapp_api, session, run_tasks
    ):
        whatsapp_api.fail_next(131047)
        message = send_to_partner(run_tasks, session, "are you there?")

        assert refreshed(message).status == MessageStatus.HELD
        assert [p["type"] for p in whatsapp_api.sent] == ["template"]

    def test_window_closed_reported_later_by_webhook_holds_a_copy(
        self, whatsapp_api, session, run_tasks, post_webhook
    ):
        message = refreshed(send_to_partner(run_tasks, session, "late news"))
        failed = wa.status(
            message.provider_message_id,
            "failed",
            errors=[{"code": 131047, "title": "Re-engagement"}],
        )

        post_webhook(wa.envelope("1001", statuses=[failed]))

        assert refreshed(message).status == MessageStatus.FAILED
        held = Message.objects.get(status=MessageStatus.HELD)
        assert held.body == "late news"
        assert whatsapp_api.sent[-1]["type"] == "template"

    def test_without_an_approved_template_the_message_waits_and_operators_are_told(
        self, whatsapp_api, open_session, run_tasks, pool
    ):
        pool.notice_template.status = "PAUSED"
        pool.notice_template.save()
        message = send_to_partner(run_tasks, open_session(), "hello")

        assert refreshed(message).status == MessageStatus.HELD
        assert whatsapp_api.sent == []
        assert OperatorAlert.objects.filter(kind="window_template_missing").exists()


class TestErrors:
    def test_transient_errors_are_retried_with_backoff_until_sent(
        self, whatsapp_api, session, run_tasks, clock
    ):
        whatsapp_api.fail_next(131000, http_status=500)
        message = send_to_partner(run_tasks, session)
        first = refreshed(message)
        assert first.status == MessageStatus.QUEUED and first.next_attempt_at > timezone.now()

        message_deliver(message.pk)  # not due yet: nothing happens
        assert len(whatsapp_api.sent) == 0
        wait_until_due(clock, message)
        drain()

        assert refreshed(message).status == MessageStatus.SENT
        assert whatsapp_api.texts_to(PARTNER) == ["hello"]

    def test_network_errors_before_sending_are_retried(
        self, whatsapp_api, session, run_tasks, settings
    ):
        settings.WHATSAPP_API_BASE = "http://127.0.0.1:9/v25.0"  # nothing listens there
        message = send_to_partner(run_tasks, session)
        assert refreshed(message).status == MessageStatus.QUEUED
        assert refreshed(message).attempts == 1

    def test_retries_stop_after_the_last_attempt(
        self, whatsapp_api, session, run_tasks, settings, clock
    ):
        settings.RELAY_MAX_SEND_ATTEMPTS = 2
        whatsapp_api.fail_next(2, http_status=500, times=2)
        message = send_to_partner(run_tasks, session)
        wait_until_due(clock, message)
        drain()
        assert refreshed(message).status == MessageStatus.FAILED
        assert refreshed(message).error_code == 2

    @pytest.mark.parametrize(
        "code", [131026, 130403, 131050, 131021, 100, 131008, 131009, 132000, 132001]
    )
    def test_permanent_errors_are_not_retried_and_the_sender_is_told(
        self, whatsapp_api, session, run_tasks, post_webhook, code
    ):
        whatsapp_api.fail_next(code)
        write(post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body="hi")

        relayed = Message.objects.get(origin=Origin.RELAYED)
        assert relayed.status == MessageStatus.FAILED and relayed.error_code == code
        assert relayed.next_attempt_at is None
        assert whatsapp_api.texts_to(CUSTOMER) == [english(TextKey.UNDELIVERED)]

    def test_number_throughput_limit_backs_off_that_number_only(
        self, whatsapp_api, session, run_tasks
    ):
        whatsapp_api.fail_next(130429)
        message = send_to_partner(run_tasks, session)

        number = ProxyNumber.objects.get(pk=message.proxy_number_id)
        assert number.backoff_level == 1 and number.backoff_until > timezone.now()
        assert refreshed(message).status == MessageStatus.QUEUED
        later = send_to_partner(run_tasks, session, "second")
        assert refreshed(later).status == MessageStatus.QUEUED  # behind the first
        assert whatsapp_api.sent == []

    def test_pair_rate_limit_backs_off_only_that_recipient_with_growing_delays(
        self, whatsapp_api, session, run_tasks
    ):
        message = send_to_partner(run_tasks, session, "first")
        delays = []
        for _ in range(3):
            whatsapp_api.fail_next(131056)
            Message.objects.filter(pk=message.pk).update(
                status=MessageStatus.QUEUED, next_attempt_at=None
            )
            Leg.objects.update(backoff_until=None)
            before = timezone.now()
            message_deliver(message.pk)
            leg = Leg.objects.get(contact=message.contact, proxy_number=message.proxy_number)
            delays.append(round((leg.backoff_until - before).total_seconds()))
        assert delays == [1, 4, 16]

        # The customer, on another leg, is not held back.
        customer = participant(session, "customer")
        run_tasks(message_queue, participant=customer, origin=Origin.API, body="to the customer")
        assert whatsapp_api.texts_to(CUSTOMER) == ["to the customer"]

    def test_a_burst_to_one_recipient_is_paced(self, whatsapp_api, session, run_tasks, settings):
        settings.RELAY_PAIR_BURST = 3
        messages = [send_to_partner(run_tasks, session, f"m{i}") for i in range(5)]

        assert whatsapp_api.texts_to(PARTNER) == ["m0", "m1", "m2"]
        next_up, last = (refreshed(m) for m in messages[3:])
        assert next_up.status == MessageStatus.QUEUED and next_up.next_attempt_at > timezone.now()
        assert last.status == MessageStatus.QUEUED  # its turn comes after the one before

    def test_a_paced_message_goes_as_soon_as_its_turn_comes(
        self, whatsapp_api, session, run_tasks, settings, clock
    ):
        settings.RELAY_PAIR_BURST = 1
        settings.RELAY_PAIR_INTERVAL_SECONDS = 6
        for text in ("one", "two", "three"):
            send_to_partner(run_tasks, session, text)
        assert whatsapp_api.texts_to(PARTNER) == ["one"]

        for _ in range(2):
            clock.shift(6)
            drain()

        assert whatsapp_api.texts_to(PARTNER) == ["one", "two", "three"]

    @pytest.mark.parametrize("code", [190, 0, 368, 131031])
    def test_token_or_account_errors_pause_all_sending_and_keep_the_messages(
        self, whatsapp_api, session, run_tasks, code
    ):
        whatsapp_api.fail_next(code, http_status=401)
        first = send_to_partner(run_tasks, session, "one")
        second = send_to_partner(run_tasks, session, "two")

        assert OutboundHold.objects.filter(cleared_at__isnull=True).count() == 1
        assert OperatorAlert.objects.filter(kind="outbound_halted").exists()
        assert {refreshed(first).status, refreshed(second).status} == {MessageStatus.QUEUED}
        assert whatsapp_api.sent == []

        assert run_tasks(outbound_resume) == 2
        assert whatsapp_api.texts_to(PARTNER) == ["one", "two"]

    def test_a_send_with_a_wrong_access_token_pauses_sending(
        self, whatsapp_api, session, run_tasks, settings
    ):
        settings.WHATSAPP_ACCESS_TOKEN = "revoked-token"
        message = send_to_partner(run_tasks, session, "one")

        assert refreshed(message).status == MessageStatus.QUEUED
        assert OutboundHold.objects.get(cleared_at__isnull=True).error_code == 190
        assert whatsapp_api.sent == []


class TestNoDoubleSends:
    def test_a_timed_out_send_is_not_resent_but_reconciled_by_its_status(
        self, whatsapp_api, session, run_tasks, settings, post_webhook
    ):
        settings.WHATSAPP_TIMEOUT_SECONDS = 0.3
        whatsapp_api.slow_sends = 1
        message = send_to_partner(run_tasks, session, "maybe sent")
        assert refreshed(message).status == MessageStatus.UNCERTAIN

        run_tasks(sweep)
        drain()
        message_deliver(message.pk)
        assert len(whatsapp_api.sent) == 1  # the one WhatsApp took while we timed out

        status = wa.status("wamid.from-meta", "delivered", callback=str(message.pk))
        post_webhook(wa.envelope("1001", statuses=[status]))
        message = refreshed(message)
        assert message.provider_message_id == "wamid.from-meta"
        assert message.status == MessageStatus.DELIVERED

    def test_a_message_is_sent_once_however_often_its_task_runs(
        self, whatsapp_api, session, run_tasks
    ):
        message = send_to_partner(run_tasks, session)
        for _ in range(3):
            message_deliver(message.pk)
        assert len(whatsapp_api.sent) == 1

    def test_a_send_interrupted_by_a_dead_worker_is_never_repeated(
        self, whatsapp_api, session, settings, clock
    ):
        partner = participant(session, "partner")
        message = message_queue(participant=partner, origin=Origin.API, body="x")[0]
        # The worker claimed it, then died before recording the result.
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENDING, sending_started_at=timezone.now()
        )

        clock.shift(timedelta(minutes=10))
        sweep()
        message_deliver(message.pk)

        assert refreshed(message).status == MessageStatus.UNCERTAIN
        assert whatsapp_api.sent == []
        clock.shift(timedelta(hours=2))
        sweep()
        assert refreshed(message).status == MessageStatus.FAILED


class TestPayloads:
    def test_each_send_carries_our_id_and_stores_whatsapps_id(
        self, whatsapp_api, session, run_tasks
    ):
        message = refreshed(send_to_partner(run_tasks, session))
        sent = whatsapp_api.sent[0]
        assert sent["biz_opaque_callback_data"] == str(message.pk)
        assert sent["to"] == PARTNER  # E.164, with the +
        assert message.provider_message_id.startswith("wamid.out")

    def test_long_text_is_split_and_a_long_caption_continues_as_text(
        self, whatsapp_api, session, run_tasks
    ):
        words = "word " * 1000  # 5000 characters
        parts = run_tasks(
            message_queue,
            participant=participant(session, "partner"),
            origin=Origin.API,
            body=words,
        )
        assert len(parts) == 2 and all(len(p.body) <= 4096 for p in parts)

        caption = "c" * 1500
        parts = message_queue(
            participant=participant(session, "partner"),
            origin=Origin.API,
            type="image",
            body=caption,
            payload={"media_id": "1", "from_phone_number_id": "1001"},
        )
        assert [len(p.body) for p in parts] == [1024, 476]
        assert [p.type for p in parts] == ["image", "text"]


class TestStatuses:
    @pytest.fixture
    def sent(self, whatsapp_api, session, run_tasks):
        return refreshed(send_to_partner(run_tasks, session))

    def post_status(self, post_webhook, message, status, **kwargs):
        post_webhook(
            wa.envelope("1001", statuses=[wa.status(message.provider_message_id, status, **kwargs)])
        )
        return refreshed(message)

    def test_statuses_move_forward_and_never_back(self, sent, post_webhook):
        assert self.post_status(post_webhook, sent, "read").status == MessageStatus.READ
        message = self.post_status(post_webhook, sent, "delivered")
        assert message.status == MessageStatus.READ  # delivered after read is ignored
        assert message.read_at is not None and message.delivered_at is not None

    def test_the_same_status_twice_changes_nothing(self, sent, post_webhook):
        first = self.post_status(post_webhook, sent, "delivered", timestamp=1_800_000_000)
        second = self.post_status(post_webhook, sent, "delivered", timestamp=1_800_000_999)
        assert first.delivered_at == second.delivered_at

    def test_failed_after_sent_records_the_error(self, sent, post_webhook):
        message = self.post_status(
            post_webhook,
            sent,
            "failed",
            errors=[
                {
                    "code": 131026,
                    "title": "Message undeliverable",
                    "error_data": {"details": "not on WhatsApp"},
                }
            ],
        )
        assert message.status == MessageStatus.FAILED
        assert message.error_code == 131026 and message.error_message == "not on WhatsApp"

    def test_a_status_for_an_unknown_message_is_acknowledged(self, db, post_webhook):
        response = post_webhook(wa.envelope("1001", statuses=[wa.status("wamid.unknown", "read")]))

        assert response.status_code == 200
        # Handled, not merely stored: Meta would otherwise be answered 200 for a payload that
        # failed and is retried for ever.
        payload = WebhookPayload.objects.get()
        assert payload.processed_at is not None and payload.error == ""
        event = TimelineEvent.objects.get(kind=EventKind.WEBHOOK_UNKNOWN_STATUS)
        assert event.detail == {"status": "read"}


def test_when_the_partner_reads_a_relayed_message_the_customer_sees_it_read(
    whatsapp_api, session, post_webhook
):
    original = write(
        post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body="hi"
    )
    relayed = Message.objects.get(source__provider_message_id=original["id"])
    read = wa.status(relayed.provider_message_id, "read")

    post_webhook(wa.envelope("1001", statuses=[read]))
    post_webhook(wa.envelope("1001", statuses=[read]))  # once is enough

    receipts = [p for p in whatsapp_api.sent if p.get("status") == "read"]
    assert receipts == [
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": original["id"],
            "_from": participant(session, "customer").proxy_number.phone_number_id,
        }
    ]


def test_a_template_approved_again_invites_those_who_waited(
    whatsapp_api, open_session, run_tasks, post_webhook, pool
):
    pool.notice_template.status = "PAUSED"
    pool.notice_template.save()
    session = open_session()
    send_to_partner(run_tasks, session, "waiting for you")
    assert whatsapp_api.sent == []

    value = {
        "event": "APPROVED",
        "message_template_name": "new_message_notice",
        "message_template_language": "en_US",
    }
    post_webhook(wa.envelope("1001", field="message_template_status_update", value=value))

    assert [(p["type"], p["to"]) for p in whatsapp_api.sent] == [("template", PARTNER)]
