"""A webhook delivery from Meta, answered the same way whichever way it came in (Django's
view, or the WSGI fast path that production serves it through)."""

import logging

from django.conf import settings

from relay.services.webhooks import webhook_store
from relay.webhooks.envelope import EnvelopeError, conversation_of, parse_envelope
from relay.webhooks.signature import signature_valid

logger = logging.getLogger(__name__)


def delivery_answer(*, body: bytes, signature: str | None) -> tuple[int, str]:
    """Check, keep and acknowledge one delivery: (HTTP status, text). 200 only once the
    payload is stored; a failure to store raises, so that the answer is a 500 and Meta
    delivers it again."""
    if not signature_valid(body=body, header=signature, secret=settings.WHATSAPP_APP_SECRET):
        logger.warning("webhook refused: missing or wrong X-Hub-Signature-256")
        return 401, "invalid signature"
    try:
        envelope = parse_envelope(body)
    except EnvelopeError as exc:
        return 400, str(exc)
    webhook_store(body=body, conversation=conversation_of(envelope))
    return 200, "ok"
