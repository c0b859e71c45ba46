"""End to end: a signed webhook in, the relayed message out to the fake Graph API."""

from relay.choices import MessageStatus
from relay.models import Message
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write


def test_customer_text_reaches_partner_from_partners_proxy_number(
    whatsapp_api, open_session, post_webhook
):
    session = open_session()
    customer, partner = participant(session, "customer"), participant(session, "partner")
    # The partner wrote recently, so their window is open.
    write(post_webhook, PARTNER, partner.proxy_number, body="hello")

    write(post_webhook, CUSTOMER, customer.proxy_number, body="Is the meeting room free at 3?")

    sent = whatsapp_api.last_to(PARTNER)
    assert sent["text"]["body"] == "Is the meeting room free at 3?"
    assert sent["_from"] == partner.proxy_number.phone_number_id
    assert CUSTOMER.lstrip("+") not in whatsapp_api.everything_sent_to(PARTNER)


def test_partner_reply_reaches_customer(whatsapp_api, open_session, post_webhook):
    session = open_session()
    customer, partner = participant(session, "customer"), participant(session, "partner")
    write(post_webhook, CUSTOMER, customer.proxy_number, body="hi")
    write(post_webhook, PARTNER, partner.proxy_number, body="Yes, room 4 is yours")

    assert whatsapp_api.texts_to(CUSTOMER) == ["Yes, room 4 is yours"]
    assert whatsapp_api.last_to(CUSTOMER)["_from"] == customer.proxy_number.phone_number_id
    out = Message.objects.get(direction="out", contact=customer.contact)
    assert out.status == MessageStatus.SENT and out.provider_message_id.startswith("wamid.out")
