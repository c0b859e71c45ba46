"""Webhook ingress: the handshake, signatures, storage before acknowledgement, batches."""

import json

import pytest
from django.db import DatabaseError
from django.test import Client

from relay.choices import MessageStatus
from relay.models import Message, OperatorAlert, TimelineEvent, WebhookPayload
from tests.conftest import at_the_same_instant, skip_unless_postgresql
from tests.relay import wa
from tests.relay.conftest import CUSTOMER, PARTNER, open_windows, participant

URL = "/webhooks/whatsapp/"


def test_handshake_echoes_the_challenge_when_the_token_matches(client):
    response = client.get(
        URL,
        {
            "hub.mode": "subscribe",
            "hub.verify_token": "test-verify-token",
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
    ids=["wrong-token", "wrong-mode", "nothing"],
)
def test_handshake_is_refused_without_the_right_token_and_mode(client, params):
    response = client.get(URL, params)
    assert response.status_code == 403
    assert b"1" not in response.content


@pytest.mark.parametrize(
    "signature",
    [None, "deadbeef", "sha256=" + "0" * 64, "sha1=abc"],
    ids=["missing", "no-prefix", "wrong-hmac", "wrong-algorithm"],
)
def test_unsigned_or_badly_signed_posts_are_refused_and_nothing_is_stored(
    db, whatsapp_api, open_session, signature
):
    session = open_session()
    number = participant(session, "customer").proxy_number
    body = wa.encode(wa.envelope(number.phone_number_id, messages=[wa.message(CUSTOMER)]))
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature else {}
    if signature == "deadbeef":
        headers["HTTP_X_HUB_SIGNATURE_256"] = wa.sign(body).removeprefix("sha256=")

    response = Client().post(URL, data=body, content_type="application/json", **headers)

    assert response.status_code == 401
    assert WebhookPayload.objects.count() == 0
    assert Message.objects.count() == 0
    assert whatsapp_api.sent == []


def test_signature_is_checked_over_the_raw_bytes_with_accents_emoji_and_escapes(
    whatsapp_api, open_session, run_tasks
):
    session = open_session()
    open_windows(session)
    number = participant(session, "customer").proxy_number
    text_item = wa.message(CUSTOMER, body="placeholder")
    # As Meta sends it: escaped unicode in the raw body, which must not be re-serialised.
    raw = json.dumps(wa.envelope(number.phone_number_id, messages=[text_item]), ensure_ascii=True)
    raw = raw.replace("placeholder", "Caf\\u00e9 \\u00e4 ok \\ud83d\\ude00 / @ é")
    body = raw.encode("utf-8")

    response = run_tasks(
        Client().post,
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=wa.sign(body),
    )

    assert response.status_code == 200
    assert whatsapp_api.texts_to(PARTNER) == ["Café ä ok 😀 / @ é"]


def test_payload_is_kept_even_when_handling_it_fails(pool, post_webhook, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("relay.services.webhooks.inbound_receive", broken)
    payload = wa.envelope("1001", messages=[wa.message(CUSTOMER)])

    response = post_webhook(payload)

    assert response.status_code == 200
    stored = WebhookPayload.objects.get()
    assert json.loads(stored.body) == payload
    assert stored.processed_at is None and "RuntimeError" in stored.error


def test_webhook_answers_500_when_the_payload_cannot_be_stored(db, monkeypatch):
    def unavailable(*args, **kwargs):
        raise DatabaseError("database is down")

    monkeypatch.setattr("relay.services.webhooks.insert_fast", unavailable)
    body = wa.encode(wa.envelope("1001", messages=[wa.message(CUSTOMER)]))

    response = Client(raise_request_exception=False).post(
        URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=wa.sign(body)
    )

    assert response.status_code == 500
    assert CUSTOMER not in response.content.decode()


def test_signed_body_that_is_not_json_is_a_400(db):
    body = b"not json"
    response = Client().post(
        URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=wa.sign(body)
    )
    assert response.status_code == 400
    assert WebhookPayload.objects.count() == 0


def test_payloads_the_relay_does_not_handle_are_acknowledged_and_recorded(db, post_webhook, pool):
    unknown_number = wa.envelope("999999", messages=[wa.message(CUSTOMER)])
    errors_only = wa.envelope(
        "1001",
        value={
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": "1001"},
            "errors": [{"code": 130429, "title": "Rate limit hit"}],
        },
    )
    other_field = wa.envelope(
        "1001", field="phone_number_name_update", value={"decision": "APPROVED"}
    )

    for payload in (unknown_number, errors_only, other_field):
        assert post_webhook(payload).status_code == 200

    kinds = set(TimelineEvent.objects.values_list("kind", flat=True))
    assert {"webhook.unknown_number", "webhook.error", "webhook.management"} <= kinds
    assert OperatorAlert.objects.get(kind="whatsapp_error").message == (
        "WhatsApp reported error 130429: Rate limit hit"
    )
    assert Message.objects.count() == 0
    assert WebhookPayload.objects.filter(processed_at__isnull=False).count() == 3


def test_every_entry_change_and_message_of_a_batch_is_handled(
    whatsapp_api, open_session, post_webhook
):
    session = open_session()
    open_windows(session)
    number = participant(session, "customer").proxy_number
    first = wa.envelope(
        number.phone_number_id, messages=[wa.message(CUSTOMER, body=f"m{i}") for i in (1, 2)]
    )
    second = wa.envelope(number.phone_number_id, messages=[wa.message(CUSTOMER, body="m3")])
    change = first["entry"][0]["changes"][0]
    batch = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "WABA1", "changes": [change, second["entry"][0]["changes"][0]]},
            {
                "id": "WABA1",
                "changes": [
                    wa.envelope(number.phone_number_id, messages=[wa.message(CUSTOMER, body="m4")])[
                        "entry"
                    ][0]["changes"][0],
                    wa.envelope(number.phone_number_id, messages=[wa.message(CUSTOMER, body="m5")])[
                        "entry"
                    ][0]["changes"][0],
                ],
            },
        ],
    }

    post_webhook(batch)

    assert sorted(whatsapp_api.texts_to(PARTNER)) == ["m1", "m2", "m3", "m4", "m5"]


def test_a_message_delivered_twice_is_relayed_once(whatsapp_api, open_session, post_webhook):
    session = open_session()
    open_windows(session)
    number = participant(session, "customer").proxy_number
    item = wa.message(CUSTOMER, body="only once")
    payload = wa.envelope(number.phone_number_id, messages=[item])

    post_webhook(payload)
    post_webhook(payload)
    post_webhook(wa.envelope(number.phone_number_id, messages=[item, item]))

    assert whatsapp_api.texts_to(PARTNER) == ["only once"]
    assert Message.objects.filter(provider_message_id=item["id"]).count() == 1


def test_an_old_message_is_stored_but_not_relayed(whatsapp_api, open_session, post_webhook):
    session = open_session()
    open_windows(session)
    number = participant(session, "customer").proxy_number
    import time

    old = wa.message(CUSTOMER, body="from two days ago", timestamp=int(time.time()) - 2 * 86400)

    post_webhook(wa.envelope(number.phone_number_id, messages=[old]))

    assert whatsapp_api.texts_to(PARTNER) == []
    assert Message.objects.get(provider_message_id=old["id"]).status == MessageStatus.REJECTED


def test_a_sender_with_only_a_business_scoped_id_is_routed(
    whatsapp_api, open_session, post_webhook
):
    session = open_session()
    open_windows(session)
    customer = participant(session, "customer")
    # The customer was seen once with both: the BSUID is linked to their contact.
    linked = wa.message(CUSTOMER, body="first", bsuid="US.13491208655302741918")
    post_webhook(
        wa.envelope(
            customer.proxy_number.phone_number_id,
            messages=[linked],
            contacts=[
                {
                    "profile": {"name": "Sam"},
                    "wa_id": CUSTOMER.lstrip("+"),
                    "user_id": "US.13491208655302741918",
                }
            ],
        )
    )

    bsuid_only = wa.message(None, body="no phone this time", bsuid="US.13491208655302741918")
    post_webhook(
        wa.envelope(
            customer.proxy_number.phone_number_id,
            messages=[bsuid_only],
            contacts=[{"profile": {"name": "Sam"}, "user_id": "US.13491208655302741918"}],
        )
    )

    assert whatsapp_api.texts_to(PARTNER) == ["first", "no phone this time"]
    assert (
        Message.objects.get(provider_message_id=bsuid_only["id"]).contact_id == customer.contact_id
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_message_relay_it_once(whatsapp_api, pool, partner):
    skip_unless_postgresql()
    from relay.services.sessions import PartyInput, session_open

    session = session_open(
        external_ref="BK-1",
        workflow="booking",
        customer=PartyInput(name="Sam", phone=CUSTOMER),
        partner=partner,
        pool=pool,
    )
    open_windows(session)
    number = participant(session, "customer").proxy_number
    body = wa.encode(
        wa.envelope(number.phone_number_id, messages=[wa.message(CUSTOMER, body="once")])
    )

    def deliver():
        return (
            Client()
            .post(
                URL,
                data=body,
                content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=wa.sign(body),
            )
            .status_code
        )

    assert at_the_same_instant(deliver, deliver, deliver) == [200, 200, 200]
    assert whatsapp_api.texts_to(PARTNER) == ["once"]


def test_a_duplicate_delivery_is_skipped_without_a_database_error(
    whatsapp_api, session, post_webhook
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    item = wa.message(CUSTOMER, body="my secret plans")
    envelope = wa.envelope(
        participant(session, "customer").proxy_number.phone_number_id, messages=[item]
    )
    post_webhook(envelope)

    with CaptureQueriesContext(connection) as queries:
        post_webhook(envelope)

    inserts = [
        q["sql"] for q in queries if q["sql"].startswith("INSERT") and '"relay_message"' in q["sql"]
    ]
    # ON CONFLICT DO NOTHING on PostgreSQL; SQLite writes it INSERT OR IGNORE.
    assert len(inserts) == 1
    assert "ON CONFLICT DO NOTHING" in inserts[0] or "INSERT OR IGNORE" in inserts[0]
    # No refused statement (which PostgreSQL would log with the text) and nothing rolled back.
    assert not any("ROLLBACK" in q["sql"] for q in queries)
    assert whatsapp_api.texts_to(PARTNER) == ["my secret plans"]
