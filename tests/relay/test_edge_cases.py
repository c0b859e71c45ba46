"""Edge cases around session ends, waiting choices, failing webhooks and odd content."""

from datetime import timedelta

import pytest
from django.utils import timezone

from relay.choices import MessageStatus, Origin, SessionStatus, TextKey
from relay.models import Message, OperatorAlert, RelaySession, WebhookPayload
from relay.privacy import redact
from relay.services.sessions import session_close, session_expire, session_touch
from relay.services.webhooks import WEBHOOK_ATTEMPTS
from relay.tasks import sweep
from relay.worker import drain
from tests.conftest import at_the_same_instant, skip_unless_postgresql
from tests.relay import wa
from tests.relay.conftest import (
    CUSTOMER,
    PARTNER,
    choose_thread,
    open_windows,
    participant,
    send_to_partner,
    write,
)
from tests.relay.factories import (
    InboundMessageFactory,
    OutboundMessageFactory,
    PoolFactory,
    ProxyNumberFactory,
)
from tests.relay.texts import english


def test_an_interaction_after_a_close_does_not_reopen_the_session(session):
    session_close(session=session)
    assert not session_touch(session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED


@pytest.mark.django_db(transaction=True)
def test_an_interaction_racing_a_close_does_not_reopen_the_session(open_session):
    skip_unless_postgresql()
    for attempt in range(5):  # the two orders, and the two at once, all end closed
        session = open_session(f"BK-{attempt}", customer=f"+1415555070{attempt}")
        closed, touched = at_the_same_instant(
            lambda s=session: session_close(session=s), lambda s=session: session_touch(session=s)
        )
        assert not isinstance(closed, Exception) and not isinstance(touched, Exception)
        session.refresh_from_db()
        assert session.status == SessionStatus.CLOSED
        assert not session.participants.filter(active=True).exists()


def test_a_session_renewed_meanwhile_is_not_expired(session):
    assert session_expire(session=session) is False  # its idle time has not run out
    assert RelaySession.objects.get(pk=session.pk).status == SessionStatus.OPEN


def test_closing_a_session_cancels_what_still_waited_to_go_out(
    whatsapp_api, open_session, run_tasks
):
    session = open_session()  # windows closed: the message is held
    held = send_to_partner(run_tasks, session, "see you")
    assert Message.objects.get(pk=held.pk).status == MessageStatus.HELD

    session_close(session=session)

    assert Message.objects.get(pk=held.pk).status == MessageStatus.FAILED
    assert whatsapp_api.texts_to(PARTNER) == []


def test_a_late_window_refusal_holds_a_copy_without_alarming_the_sender(
    whatsapp_api, session, post_webhook
):
    original = write(
        post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body="hi"
    )
    relayed = Message.objects.get(source__provider_message_id=original["id"])
    failed = wa.status(relayed.provider_message_id, "failed", errors=[{"code": 131047}])

    post_webhook(wa.envelope("1001", statuses=[failed]))

    assert whatsapp_api.texts_to(CUSTOMER) == []
    copy = Message.objects.get(status=MessageStatus.HELD)
    assert copy.body == "hi" and copy.sent_at is None and copy.attempts == 0
    # The customer's message did not reach the partner after all: it waits with its copy.
    assert Message.objects.get(provider_message_id=original["id"]).status == "pending"


class TestWaitingForAChoice:
    @pytest.fixture
    def shared(self, open_session):
        pool = PoolFactory(name="one")
        ProxyNumberFactory(pool=pool, e164="+15550009999", phone_number_id="9999")
        sessions = [open_session(f"BK-{i}", pool=pool) for i in (1, 2)]
        for s in sessions:
            open_windows(s)
        return sessions

    def test_the_question_is_asked_again_after_an_hour(
        self, whatsapp_api, shared, post_webhook, clock
    ):
        number = participant(shared[0], "customer").proxy_number
        write(post_webhook, CUSTOMER, number, body="first")
        clock.shift(timedelta(minutes=59))
        write(post_webhook, CUSTOMER, number, body="not asked again yet")
        assert sum(p["type"] == "interactive" for p in whatsapp_api.sent) == 1
        clock.shift(timedelta(minutes=2))
        write(post_webhook, CUSTOMER, number, body="second")
        assert sum(p["type"] == "interactive" for p in whatsapp_api.sent) == 2

    def test_unanswered_messages_are_not_relayed_a_day_later(
        self, whatsapp_api, shared, post_webhook, run_tasks, clock
    ):
        number = participant(shared[0], "customer").proxy_number
        write(post_webhook, CUSTOMER, number, body="old question")
        clock.shift(timedelta(days=2))
        run_tasks(sweep)

        choose_thread(post_webhook, CUSTOMER, number, participant(shared[0], "customer"))

        assert whatsapp_api.texts_to(PARTNER) == []


def test_a_webhook_that_keeps_failing_is_retried_later_and_later_then_reported(
    db, pool, post_webhook, monkeypatch, clock
):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("relay.services.webhooks.inbound_receive", broken)
    post_webhook(wa.envelope("1001", messages=[wa.message(CUSTOMER)]))

    delays = []
    for _ in range(WEBHOOK_ATTEMPTS + 3):
        payload = WebhookPayload.objects.get()
        if payload.attempts >= WEBHOOK_ATTEMPTS:
            break
        delays.append((payload.next_attempt_at - timezone.now()).total_seconds())
        clock.move_to(payload.next_attempt_at + timedelta(seconds=1), tick=False)
        drain()

    payload = WebhookPayload.objects.get()
    assert payload.attempts == WEBHOOK_ATTEMPTS and payload.processed_at is None
    # About doubling each time (with jitter), up to an hour.
    assert all(b > 1.2 * a for a, b in zip(delays[:6], delays[1:7], strict=True))
    assert delays[0] < 60 and 2800 < delays[-1] < 4400
    alert = OperatorAlert.objects.get(kind="webhook_failed")
    assert f"#{payload.pk}" in alert.message and "RuntimeError" in alert.message
    clock.shift(timedelta(days=1))
    drain()
    assert WebhookPayload.objects.get().attempts == WEBHOOK_ATTEMPTS  # no longer tried


def test_a_system_notice_keeps_no_numbers(db, pool, post_webhook):
    system = {
        "body": "User A changed from +1 415 555 0123 to +1 415 555 0999",
        "wa_id": "14155550999",
        "type": "user_changed_number",
    }
    post_webhook(wa.envelope("1001", messages=[wa.message(CUSTOMER, type="system", system=system)]))
    stored = Message.objects.get(direction="in")
    assert "0999" not in str(stored.payload) and stored.status == MessageStatus.REJECTED


def test_reactions_in_a_mediated_session_wait_for_an_agent(
    whatsapp_api, open_session, post_webhook, run_tasks
):
    session = open_session(mode="mediated")
    open_windows(session)
    sent = send_to_partner(run_tasks, session, "quote", role="customer")
    sent.refresh_from_db()

    write(
        post_webhook,
        CUSTOMER,
        participant(session, "customer").proxy_number,
        type="reaction",
        reaction={"message_id": sent.provider_message_id, "emoji": "👍"},
    )

    assert [p for p in whatsapp_api.sent if p["type"] == "reaction"] == []
    assert Message.objects.get(type="reaction").status == MessageStatus.AWAITING_AGENT


def test_a_location_on_the_equator_keeps_its_zero_latitude(whatsapp_api, session, post_webhook):
    write(
        post_webhook,
        CUSTOMER,
        participant(session, "customer").proxy_number,
        type="location",
        location={"latitude": 0.0, "longitude": 32.5},
    )
    assert whatsapp_api.last_to(PARTNER)["location"] == {"latitude": 0.0, "longitude": 32.5}


@pytest.mark.parametrize("text", ["2024-05-06 10:30", "06.05.2024", "#12345678", "BK-12345678"])
def test_dates_times_and_references_are_not_taken_for_numbers(text):
    assert redact(text, region="GB").text == text


def test_a_date_does_not_shield_a_number_written_next_to_it():
    assert redact("06.05.2024 9 8 7 6 5 4 3 2 1", region="GB").text == "06.05.2024 [number hidden]"


class TestLateWindowRefusals:
    def refuse(self, post_webhook, message):
        failed = wa.status(message.provider_message_id, "failed", errors=[{"code": 131047}])
        post_webhook(wa.envelope("1001", statuses=[failed]))

    def test_a_recipient_who_wrote_meanwhile_gets_the_copy_at_once(
        self, whatsapp_api, session, post_webhook, run_tasks
    ):
        sent = send_to_partner(run_tasks, session, "are we on?")
        sent.refresh_from_db()
        # The partner wrote after the send began: their window is open now.
        Message.objects.filter(pk=sent.pk).update(
            sending_started_at=timezone.now() - timedelta(minutes=1)
        )

        self.refuse(post_webhook, sent)

        assert whatsapp_api.texts_to(PARTNER) == ["are we on?", "are we on?"]
        assert not Message.objects.filter(status=MessageStatus.HELD).exists()

    def test_an_old_invitation_does_not_stop_a_new_one(
        self, whatsapp_api, session, post_webhook, run_tasks, clock
    ):
        OutboundMessageFactory(
            participant=participant(session, "partner"),
            origin=Origin.TEMPLATE,
            type="template",
            status=MessageStatus.READ,
        )
        clock.shift(timedelta(days=5))
        open_windows(session)  # they have written since that invitation
        clock.shift(timedelta(minutes=1))
        sent = send_to_partner(run_tasks, session, "hello")
        sent.refresh_from_db()

        self.refuse(post_webhook, sent)

        assert [p["type"] for p in whatsapp_api.sent] == ["text", "template"]

    def test_a_refusal_after_the_session_ended_leaves_nothing_waiting(
        self, whatsapp_api, session, post_webhook, run_tasks
    ):
        sent = send_to_partner(run_tasks, session, "bye")
        sent.refresh_from_db()
        session_close(session=session)

        self.refuse(post_webhook, sent)

        assert not Message.objects.filter(status=MessageStatus.HELD).exists()
        assert [p["type"] for p in whatsapp_api.sent] == ["text"]


def test_a_message_arriving_as_its_session_closes_is_answered_not_lost(
    whatsapp_api, session, run_tasks
):
    from relay.services.inbound import inbound_continue

    customer = participant(session, "customer")
    incoming = InboundMessageFactory(participant=customer, session=None, body="late")
    session_close(session=session)

    run_tasks(inbound_continue, message=incoming, participant=customer)

    incoming.refresh_from_db()
    assert incoming.status == MessageStatus.REJECTED
    assert whatsapp_api.texts_to(CUSTOMER) == [english(TextKey.ENDED)]
    assert whatsapp_api.texts_to(PARTNER) == []


def test_an_internal_error_before_sending_is_retried_not_left_sending(
    whatsapp_api, session, run_tasks, monkeypatch
):
    def broken(*args, **kwargs):
        raise KeyError("media_id")

    monkeypatch.setattr("relay.services.delivery.payloads.build", broken)
    message = send_to_partner(run_tasks, session, "x")

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.next_attempt_at > timezone.now()


@pytest.mark.django_db(transaction=True)
def test_identical_session_requests_at_the_same_instant_open_one_session(pool, partner):
    skip_unless_postgresql()
    from relay.services.sessions import PartyInput, session_open_or_get

    def request():
        session, created = session_open_or_get(
            external_ref="BK-7",
            workflow="booking",
            partner=partner,
            pool=pool,
            customer=PartyInput(name="Sam", phone="+14155550444"),
        )
        return session.pk, created

    results = at_the_same_instant(request, request, request)

    assert all(isinstance(result, tuple) for result in results), results
    assert len({pk for pk, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, True]


def test_a_user_who_changes_number_keeps_their_sessions(whatsapp_api, session, post_webhook):
    customer = participant(session, "customer")
    system = {"body": "User changed number", "wa_id": "14155550999", "type": "user_changed_number"}
    write(post_webhook, CUSTOMER, customer.proxy_number, type="system", system=system)

    write(post_webhook, "+14155550999", customer.proxy_number, body="new phone, same me")

    assert whatsapp_api.texts_to(PARTNER) == ["new phone, same me"]
    customer.contact.refresh_from_db()
    assert customer.contact.phone == "+14155550999"
