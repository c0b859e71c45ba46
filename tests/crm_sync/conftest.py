"""What the CRM tests share: a receiver on 127.0.0.1 that verifies every delivery with the
standardwebhooks library and answers as a test scripts it, and endpoints pointing at it."""

import json
import time
from dataclasses import dataclass, field

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Request, Response

from crm_sync.delivery import deliveries_send_due
from crm_sync.services import endpoint_create
from tests.relay.conftest import (  # noqa: F401 (fixtures the CRM tests share)
    api,
    open_session,
    partner,
    pool,
    post_webhook,
)


@dataclass
class Receiver:
    """Records each delivery (verified), answering the scripted statuses in turn, then 200.
    A status of None stands for a receiver that hangs past the sender's timeout and then
    gives up (503): it took nothing."""

    server: object
    secrets: list[str] = field(default_factory=list)
    script: list = field(default_factory=list)
    received: list[dict] = field(default_factory=list)  # verified, whatever was answered
    taken: list[str] = field(default_factory=list)  # ids answered 2xx, in order

    @property
    def url(self) -> str:
        return self.server.url_for("/hooks")

    def handle(self, request: Request) -> Response:
        body = request.get_data(as_text=True)
        verified = self.verify(body, dict(request.headers))
        status = self.script.pop(0) if self.script else 200
        if status is None:
            time.sleep(1.0)  # beyond CRM_TIMEOUT_SECONDS
            status = 503
        self.received.append(
            {"headers": dict(request.headers), "body": json.loads(body), "verified": verified}
        )
        if 200 <= status < 300:
            self.taken.append(request.headers["webhook-id"])
        return Response("ok" if status < 300 else "nope", status=status)

    def verify(self, body: str, headers: dict) -> list[int]:
        """Which of the known secrets verify the delivery (by index)."""
        good = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                good.append(index)
            except WebhookVerificationError:
                pass
        return good

    def types(self) -> list[str]:
        return [r["body"]["type"] for r in self.received]


@pytest.fixture
def receiver(httpserver):
    made = Receiver(httpserver)
    httpserver.expect_request("/hooks", method="POST").respond_with_handler(made.handle)
    return made


@pytest.fixture
def endpoint(receiver, db):
    created, secret = endpoint_create(url=receiver.url, events=["*"])
    receiver.secrets.append(secret)
    return created


def send_all(rounds: int = 20) -> None:
    """Send what is due until nothing is."""
    for _ in range(rounds):
        if not deliveries_send_due():
            return
