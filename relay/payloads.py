"""Cloud API request bodies for our outbound messages. Pure functions, no I/O."""

from relay.models import Message

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def recipient_fields(message: Message) -> dict:
    """`to` in E.164 with +; a contact known only by business-scoped id goes in `recipient`."""
    phone = message.contact.phone
    if phone:
        return {"to": phone}
    return {"recipient": message.contact.bsuid}


def build(message: Message, *, media_id: str | None = None, context_id: str | None = None) -> dict:
    payload = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **recipient_fields(message),
        "type": message.type,
        "biz_opaque_callback_data": str(message.pk),
    }
    payload[message.type] = _body(message, media_id)
    if context_id and message.type != "reaction":
        payload["context"] = {"message_id": context_id}
    return payload


def _body(message: Message, media_id: str | None) -> dict:
    data = message.payload
    kind = message.type
    if kind == "text":
        return {"body": message.body, "preview_url": False}
    if kind in ("image", "video", "document", "audio", "sticker"):
        body = {"id": media_id}
        if message.body and kind != "audio" and kind != "sticker":
            body["caption"] = message.body
        if kind == "document" and data.get("filename"):
            body["filename"] = data["filename"]
        return body
    if kind == "location":
        fields = ("latitude", "longitude", "name", "address")
        return {k: data[k] for k in fields if data.get(k) is not None}
    if kind == "reaction":
        return {"message_id": data["message_id"], "emoji": data.get("emoji", "")}
    if kind == "template":
        names = data.get("parameter_names") or []  # set for templates with named parameters
        parameters = [
            {"type": "text", "text": value} | ({"parameter_name": names[i]} if names else {})
            for i, value in enumerate(data.get("parameters", []))
        ]
        template = {"name": data["name"], "language": {"code": data["language"]}}
        if parameters:
            template["components"] = [{"type": "body", "parameters": parameters}]
        return template
    if kind == "interactive":
        return data["interactive"]
    if kind == "contacts":
        return data["contacts"]
    raise ValueError(f"cannot send a {kind} message")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split on line or word boundaries where possible, so no part exceeds `limit`."""
    parts = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return parts
