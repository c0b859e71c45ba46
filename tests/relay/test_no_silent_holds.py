"""A message that cannot go out says why, wherever it is shown; a participant nothing can
reach is named as such, and an operator is told which pool to fix."""

import pytest

from relay.choices import MessageStatus
from relay.models import Message, OperatorAlert, OutboundHold
from relay.selectors import message_reason
from tests.relay.conftest import CUSTOMER, open_windows, participant, write


@pytest.fixture
def no_template(pool):
    pool.notice_template.status = "PAUSED"
    pool.notice_template.save()
    return pool


def reach_of(api, session) -> dict:
    body = api.get(f"/api/v1/sessions/{session.pk}/").json()
    return {p["role"]: (p["window_open"], p["reachable"], p["reach"]) for p in body["participants"]}


def test_the_session_says_who_can_be_reached_now(api, open_session, pool):
    session = open_session()
    open_windows(session)
    partner = participant(session, "partner")
    partner.contact.legs.update(last_inbound_at=None)  # the partner never wrote

    reach = reach_of(api, session)

    assert reach["customer"][:2] == (True, True)
    assert reach["customer"][2].startswith("can be written to now")
    assert reach["partner"][:2] == (False, True)
    assert "template new_message_notice (en_US) asks them to reply" in reach["partner"][2]


def test_nobody_reachable_is_said_in_words(api, open_session, no_template):
    reach = reach_of(api, open_session())

    assert reach["partner"] == (
        False,
        False,
        "nothing can reach them until they write: their 24-hour window is closed and pool "
        "default has no approved template",
    )


def test_a_message_waiting_for_a_closed_window_says_why_everywhere(
    api, whatsapp_api, open_session, no_template, post_webhook, admin_client
):
    session = open_session()
    customer = participant(session, "customer")
    open_windows(session)
    participant(session, "partner").contact.legs.update(last_inbound_at=None)

    write(post_webhook, CUSTOMER, customer.proxy_number, body="Is desk 4 free?")

    why = (
        "waiting: the partner's 24-hour window is closed and pool default has no approved template"
    )
    inbound = Message.objects.get(direction="in")
    assert inbound.status == MessageStatus.PENDING  # not "relayed": nothing went out
    transcript = api.get(f"/api/v1/sessions/{session.pk}/transcript/").json()["results"]
    assert [(m["status"], m["status_reason"]) for m in transcript] == [
        ("pending", why),
        ("held", why),
    ]
    page = admin_client.get(f"/admin/relay/relaysession/{session.pk}/change/").content.decode()
    assert why.replace("'", "&#x27;") in page
    alert = OperatorAlert.objects.get(kind="window_template_missing")
    assert f"Session BK-1001 (#{session.pk})" in alert.message and "pool default" in alert.message
    assert "template new_message_notice (en_US) is paused" in alert.message


def test_a_paused_sender_and_a_retry_say_why(db, open_session, run_tasks, whatsapp_api):
    from tests.relay.conftest import send_to_partner

    session = open_session()
    open_windows(session)
    whatsapp_api.fail_next(131000, http_status=500)
    retried = send_to_partner(run_tasks, session, "one")
    OutboundHold.objects.create(error_code=190, reason="the access token expired")
    paused = send_to_partner(run_tasks, session, "two")

    from relay.selectors import messages_explained

    explained = {m.pk: message_reason(m) for m in messages_explained(Message.objects.all())}
    assert explained[paused.pk] == "waiting: all sending is paused (the access token expired)"
    OutboundHold.objects.all().delete()
    explained = {m.pk: message_reason(m) for m in messages_explained(Message.objects.all())}
    assert explained[retried.pk].startswith("waiting: trying again at ")
    assert "(131000)" in explained[retried.pk]


def test_a_relayed_message_whose_send_timed_out_is_relayed_once_whatsapp_confirms_it(
    whatsapp_api, session, post_webhook, settings
):
    from tests.relay import wa

    settings.WHATSAPP_TIMEOUT_SECONDS = 0.3
    whatsapp_api.slow_sends = 1
    original = write(
        post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body="hello"
    )
    copy = Message.objects.get(source__provider_message_id=original["id"])
    assert copy.status == MessageStatus.UNCERTAIN
    assert copy.source.status == MessageStatus.PENDING

    status = wa.status("wamid.from-meta", "sent", callback=str(copy.pk))
    post_webhook(wa.envelope("1001", statuses=[status]))

    copy.refresh_from_db()
    assert (copy.status, copy.source.status) == (MessageStatus.SENT, MessageStatus.RELAYED)
