"""A message's photo or file, fetched from the provider for an agent who may see the
session: images are shown inline, anything else is a download."""

from django.http import Http404, HttpResponse

from relay.choices import MEDIA_TYPES, Direction
from relay.models import RelaySession
from relay.providers import get_provider
from relay.providers.base import ProviderError

INLINE = {"image/jpeg", "image/png", "image/webp"}


def media_response(session: RelaySession, message_id: int) -> HttpResponse:
    message = (
        session.messages.filter(pk=message_id, direction=Direction.INBOUND)
        .select_related("proxy_number")
        .first()
    )
    kind = (message.payload or {}).get("type") if message else None
    if kind not in MEDIA_TYPES:
        raise Http404("No such media in this session.")
    media = message.payload.get(kind) or {}
    try:
        found = get_provider().download_media(
            media_id=media.get("id", ""), phone_number_id=message.proxy_number.phone_number_id
        )
    except ProviderError as exc:
        return HttpResponse(f"WhatsApp did not give the file: {exc}", status=502)
    mime_type = media.get("mime_type") or found.mime_type
    response = HttpResponse(found.content, content_type=mime_type)
    if mime_type not in INLINE:
        name = (media.get("filename") or f"{kind}-{message.pk}").replace('"', "")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
