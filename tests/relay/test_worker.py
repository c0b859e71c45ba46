"""A worker loop, as `manage.py worker --loop` runs it, against a real database."""

import threading
import time

import pytest
from django.db import connections
from django.test import Client

from relay import worker
from relay.models import WebhookPayload
from tests.relay import wa
from tests.relay.conftest import CUSTOMER, PARTNER, open_windows, participant


@pytest.mark.django_db(transaction=True)
def test_a_worker_loop_relays_what_the_webhook_stored(whatsapp_api, open_session, settings):
    settings.RELAY_INLINE_WORK = False  # nothing runs until the loop finds it
    session = open_session()
    open_windows(session)
    number = participant(session, "customer").proxy_number
    body = wa.encode(wa.envelope(number.phone_number_id, messages=[wa.message(CUSTOMER)]))
    Client().post(
        "/webhooks/whatsapp/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=wa.sign(body),
    )
    assert whatsapp_api.texts_to(PARTNER) == []

    stop = threading.Event()

    def loop() -> None:
        try:
            worker.run(stop)
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop)
    thread.start()
    deadline = time.monotonic() + 10
    while whatsapp_api.texts_to(PARTNER) == [] and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)

    assert whatsapp_api.texts_to(PARTNER) == ["hi"]
    assert WebhookPayload.objects.get().processed_at is not None
    assert not thread.is_alive()
