import pytest
from django.test import Client
from django.utils import timezone

from relay.models import Leg
from relay.services.sessions import PartyInput, session_open
from tests.relay import wa
from tests.relay.factories import PoolFactory, ProxyNumberFactory, partner_with_contact

CUSTOMER = "+14155550123"
PARTNER = "+447700900123"


@pytest.fixture
def api(db):
    """An API client holding a valid key, as a booking platform would."""
    from rest_framework.test import APIClient

    from relay.api.authentication import api_key_create

    _, key = api_key_create(name="booking-platform")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def pool(db):
    pool = PoolFactory(name="default")
    ProxyNumberFactory(pool=pool, e164="+15550001001", phone_number_id="1001")
    ProxyNumberFactory(pool=pool, e164="+15550001002", phone_number_id="1002")
    return pool


@pytest.fixture
def partner(db):
    return partner_with_contact(PARTNER, code="loc-a", name="Downtown Hub")


@pytest.fixture
def open_session(pool, partner):
    def open_(ref: str = "BK-1001", customer: str = CUSTOMER, **kwargs):
        return session_open(
            external_ref=ref,
            workflow=kwargs.pop("workflow", "booking"),
            customer=PartyInput(name="Sam", phone=customer),
            partner=kwargs.pop("partner", partner),
            pool=kwargs.pop("pool", pool),
            **kwargs,
        )

    return open_


@pytest.fixture
def single_number_pool(db):
    """A pool of one number: every session of a contact shares it."""
    pool = PoolFactory(name="one-number")
    ProxyNumberFactory(pool=pool, e164="+15550009999", phone_number_id="9999")
    return pool


@pytest.fixture
def session(open_session):
    """A session whose two sides wrote a moment ago: both windows are open."""
    session = open_session()
    open_windows(session)
    return session


@pytest.fixture
def post_webhook(run_tasks):
    """POSTs a signed webhook and runs the work it queues, as the worker would."""
    client = Client()

    def post(payload: dict, *, signature: str | None = None):
        body = wa.encode(payload)
        return run_tasks(
            client.post,
            "/webhooks/whatsapp/",
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=signature or wa.sign(body),
        )

    return post


def participant(session, role: str):
    return session.participants.select_related("proxy_number").get(role=role)


def write(post_webhook, sender: str, number, **kwargs):
    """`sender` writes to proxy `number` on WhatsApp."""
    item = wa.message(sender, **kwargs)
    response = post_webhook(wa.envelope(number.phone_number_id, messages=[item]))
    assert response.status_code == 200
    return item


def open_windows(session) -> None:
    """Both participants wrote a moment ago: their 24-hour windows are open."""
    for p in session.participants.all():
        Leg.objects.update_or_create(
            contact=p.contact,
            proxy_number=p.proxy_number,
            defaults={"last_inbound_at": timezone.now()},
        )


def send_to_partner(run_tasks, session, text="hello", role="partner"):
    """The aggregator writes to one side of `session`; the delivery runs as the worker would."""
    from relay.choices import Origin
    from relay.services.queueing import message_queue

    return run_tasks(
        message_queue, participant=participant(session, role), origin=Origin.API, body=text
    )[0]


def choose_thread(post_webhook, sender: str, number, chosen) -> None:
    """`sender` picks `chosen` (a participant) from the "which booking?" list."""
    reply = {"id": f"thread:{chosen.pk}", "title": chosen.session.external_ref}
    write(
        post_webhook,
        sender,
        number,
        type="interactive",
        interactive={"type": "list_reply", "list_reply": reply},
    )
