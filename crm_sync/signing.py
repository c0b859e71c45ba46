"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`, made by the
`standardwebhooks` library so that receivers verify with the same one in any language.
During a rotation the previous secret signs too, beside the new one, space-separated."""

import base64
import secrets
from datetime import datetime

from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from crm_sync.models import Endpoint
from relay import crypto

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)


def secret_new() -> str:
    """24 random bytes, base64, as the specification writes them."""

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signing_secrets(endpoint: Endpoint, *, now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_ciphertext and expires and expires > now:
        found.append(crypto.decrypt(endpoint.previous_secret_ciphertext))
    return found


def signed_headers(endpoint: Endpoint, event_id: str, body: str, *, at: datetime) -> dict:
    signatures = " ".join(
        Webhook(secret).sign(event_id, at, body) for secret in signing_secrets(endpoint, now=at)
    )
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "Switchboard-Webhooks/1.0",
    }
