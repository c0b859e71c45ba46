"""Meta's WhatsApp webhook: the handshake, and deliveries kept before they are acknowledged."""

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from relay.services.webhooks import webhook_store
from relay.webhooks.envelope import EnvelopeError, parse_envelope
from relay.webhooks.signature import signature_valid

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    body = request.body
    if not signature_valid(
        body=body,
        header=request.headers.get("X-Hub-Signature-256"),
        secret=settings.WHATSAPP_APP_SECRET,
    ):
        logger.warning("webhook refused: missing or wrong X-Hub-Signature-256")
        return HttpResponse("invalid signature", status=401, content_type="text/plain")
    try:
        parse_envelope(body)
    except EnvelopeError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    # Any failure to store raises, and Django answers 500, so Meta delivers it again.
    webhook_store(body=body)
    return HttpResponse("ok", content_type="text/plain")


def _handshake(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("hub.verify_token", "")
    expected = settings.WHATSAPP_VERIFY_TOKEN
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(token.encode(), expected.encode())
    ):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponse(status=403)
