import json

import pytest
from django.urls import reverse

from relay.choices import MessageStatus
from relay.models import ConsoleMessage, Message, WebhookPayload
from tests.relay.conftest import CUSTOMER, PARTNER, participant
from tests.relay.factories import PoolFactory, ProxyNumberFactory

PAGE = reverse("simulator:phone")
SEND = reverse("simulator:message-send")


@pytest.fixture
def console(settings):
    settings.RELAY_PROVIDER = "console"


def test_simulator_message_is_relayed_to_the_other_side(
    admin_client, console, open_session, run_tasks
):
    session = open_session()
    customer, partner = participant(session, "customer"), participant(session, "partner")

    response = run_tasks(
        admin_client.post,
        SEND,
        {"phone": CUSTOMER, "number": customer.proxy_number.pk, "text": "Is room 4 free at 3?"},
    )

    assert response.status_code == 302
    # The partner has not written yet: the copy waits for them, and so does the original.
    inbound = Message.objects.get(direction="in")
    assert inbound.session == session and inbound.status == MessageStatus.PENDING
    # The partner has not written yet, so WhatsApp only lets the invitation template through:
    # the phone shows its text, naming who wrote, and not the template's name.
    invited = admin_client.get(PAGE, {"phone": PARTNER}).content.decode()
    assert "Hello! You have a new message from Sam. Reply to read it." in invited
    assert "new_message_notice" not in invited
    # The customer's phone says why their message has not gone through yet.
    waiting = admin_client.get(PAGE, {"phone": CUSTOMER}).content.decode()
    assert "Waiting to be passed on · waiting: the partner&#x27;s 24-hour window" in waiting

    run_tasks(
        admin_client.post,
        SEND,
        {"phone": PARTNER, "number": partner.proxy_number.pk, "text": "Yes, it is yours"},
    )

    partner_phone = admin_client.get(PAGE, {"phone": PARTNER}).content.decode()
    customer_phone = admin_client.get(PAGE, {"phone": CUSTOMER}).content.decode()
    assert "Is room 4 free at 3?" in partner_phone
    assert "Yes, it is yours" in customer_phone
    inbound.refresh_from_db()
    assert inbound.status == MessageStatus.RELAYED


def test_simulator_shows_the_console_outbox_for_a_phone(admin_client, console, pool):
    number = pool.numbers.first()
    list_message = {
        "type": "list",
        "body": {"text": "Which one is your message about?"},
        "action": {
            "button": "Choose",
            "sections": [{"rows": [{"id": "thread:7", "title": "#K7Q2 BK-1001"}]}],
        },
    }
    for payload in (
        {"type": "text", "text": {"body": "See you at 3"}},
        {"type": "interactive", "interactive": list_message},
        {"type": "image", "image": {"id": "m1", "caption": "The room"}},
        {"type": "text", "text": {"body": "Not for this phone"}, "to": "+14155550999"},
    ):
        ConsoleMessage.objects.create(
            phone_number_id=number.phone_number_id,
            payload={"to": CUSTOMER, **payload},
            provider_message_id=f"wamid.console.{payload['type']}{len(payload)}",
        )

    content = admin_client.get(PAGE, {"phone": CUSTOMER}).content.decode()

    assert "See you at 3" in content and "The room" in content and "image" in content
    assert 'name="reply_id" value="thread:7"' in content
    assert "#K7Q2 BK-1001</button>" in content
    assert "Not for this phone" not in content


def test_tapping_a_list_row_sends_a_list_reply(admin_client, console, pool, run_tasks):
    number = pool.numbers.first()

    run_tasks(
        admin_client.post,
        SEND,
        {
            "phone": CUSTOMER,
            "number": number.pk,
            "reply_kind": "list_reply",
            "reply_id": "thread:7",
            "reply_title": "#K7Q2 BK-1001",
        },
    )

    value = json.loads(WebhookPayload.objects.get().body)["entry"][0]["changes"][0]["value"]
    item = value["messages"][0]
    assert value["metadata"]["phone_number_id"] == number.phone_number_id
    assert item["from"] == CUSTOMER.lstrip("+") and item["id"].startswith("wamid.")
    assert item["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "thread:7", "title": "#K7Q2 BK-1001"},
    }
    assert Message.objects.get(direction="in").body == "#K7Q2 BK-1001"


def test_htmx_requests_get_the_thread_list_alone(admin_client, console, open_session):
    session = open_session()
    number = participant(session, "customer").proxy_number

    poll = admin_client.get(PAGE, {"phone": CUSTOMER}, HTTP_HX_REQUEST="true")
    sent = admin_client.post(
        SEND, {"phone": CUSTOMER, "number": number.pk, "text": "hi"}, HTTP_HX_REQUEST="true"
    )

    for response in (poll, sent):
        content = response.content.decode()
        assert response.status_code == 200
        assert content.lstrip().startswith('<div id="thread-list"') and "<html" not in content
    # Before the worker has handled it, the message shows as waiting.
    assert "waiting for the worker" in sent.content.decode()


def test_polling_costs_the_same_few_queries_however_long_the_threads(
    admin_client, console, open_session, run_tasks, django_assert_max_num_queries
):
    session = open_session()
    customer, partner = participant(session, "customer"), participant(session, "partner")
    for n in range(5):
        for phone, number in ((CUSTOMER, customer.proxy_number), (PARTNER, partner.proxy_number)):
            data = {"phone": phone, "number": number.pk, "text": f"message {n}"}
            run_tasks(admin_client.post, SEND, data)

    with django_assert_max_num_queries(9):
        admin_client.get(PAGE, {"phone": CUSTOMER}, HTTP_HX_REQUEST="true")


def test_an_empty_message_is_refused(admin_client, console, pool):
    number = pool.numbers.first()

    page = admin_client.post(SEND, {"phone": CUSTOMER, "number": number.pk, "text": " "})
    fragment = admin_client.post(
        SEND, {"phone": CUSTOMER, "number": number.pk}, HTTP_HX_REQUEST="true"
    )

    assert page.status_code == 400 and "Type a message first." in page.content.decode()
    assert fragment.headers["HX-Retarget"] == "#send-error"
    assert not Message.objects.exists()


def test_simulator_needs_a_staff_login(client, console):
    response = client.get(PAGE)

    assert response.status_code == 302 and "/admin/login/" in response.url


def test_simulator_does_not_exist_with_the_whatsapp_provider(admin_client, settings, pool):
    settings.RELAY_PROVIDER = "whatsapp"

    assert admin_client.get(PAGE, {"phone": CUSTOMER}).status_code == 404
    assert admin_client.post(SEND, {"phone": CUSTOMER, "text": "hi"}).status_code == 404


def test_the_to_list_offers_the_phones_own_numbers_first(admin_client, console, open_session):
    other_pool = PoolFactory(name="aaa")
    ProxyNumberFactory(pool=other_pool, e164="+15550000001", phone_number_id="9001")
    session = open_session()

    page = admin_client.get(PAGE, {"phone": CUSTOMER})

    choices = list(page.context["send_form"].fields["number"].choices)
    number = participant(session, "customer").proxy_number
    assert choices[0] == (number.pk, f"{number.e164} · BK-1001 with Downtown Hub")
    assert [label for _, label in choices[1:]] == [
        "+15550000001 (aaa, relay)",
        "+15550001002 (default, relay)",
    ]


def test_the_phones_of_customers_and_partner_contacts_are_offered(
    admin_client, console, open_session, client, django_user_model
):
    open_session("BK-1001")
    html = admin_client.get("/simulator/").content.decode()
    assert 'href="?phone=%2B14155550123"' in html and "Customer · BK-1001" in html
    assert 'href="?phone=%2B447700900123"' in html and "Partner · Downtown Hub" in html

    # Picking a phone shows its real number: not offered to staff who may not see numbers.
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert "Customer · BK-1001" not in client.get("/simulator/").content.decode()
