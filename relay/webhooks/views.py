"""Meta's WhatsApp webhook: the handshake, and deliveries kept before they are acknowledged
(production serves deliveries through relay.webhooks.wsgi, before Django's own handling)."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from relay.webhooks.delivery import delivery_answer


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    signature = request.META.get("HTTP_X_HUB_SIGNATURE_256")
    status, text = delivery_answer(body=request.body, signature=signature)
    return HttpResponse(text, status=status, content_type="text/plain")


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
