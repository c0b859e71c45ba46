"""Builders for Meta's webhook payloads, in the shapes the Cloud API documents."""

import hashlib
import hmac
import itertools
import json
import time

APP_SECRET = "test-app-secret"
_ids = itertools.count(1)


def wamid() -> str:
    return f"wamid.in{next(_ids)}{int(time.time() * 1000)}"


def message(
    sender: str | None,
    type: str = "text",
    *,
    body: str = "hi",
    id: str | None = None,
    timestamp: int | None = None,
    context: dict | None = None,
    bsuid: str | None = None,
    **content,
) -> dict:
    item = {"id": id or wamid(), "timestamp": str(timestamp or int(time.time())), "type": type}
    if sender:
        item["from"] = sender.lstrip("+")
    if bsuid:
        item["from_user_id"] = bsuid
    if type == "text":
        item["text"] = {"body": body}
    item.update(content)
    if context:
        item["context"] = context
    return item


def status(
    wamid_: str,
    status_: str,
    *,
    recipient: str = "",
    timestamp: int | None = None,
    errors: list | None = None,
    callback: str | None = None,
) -> dict:
    item = {
        "id": wamid_,
        "status": status_,
        "timestamp": str(timestamp or int(time.time())),
        "recipient_id": recipient.lstrip("+"),
    }
    if errors:
        item["errors"] = errors
    if callback:
        item["biz_opaque_callback_data"] = callback
    return item


def envelope(
    phone_number_id: str,
    *,
    messages=(),
    statuses=(),
    contacts=(),
    field="messages",
    value: dict | None = None,
) -> dict:
    value = (
        value
        if value is not None
        else {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001001", "phone_number_id": phone_number_id},
        }
    )
    if messages:
        value["messages"] = list(messages)
        value["contacts"] = list(contacts) or [
            {"profile": {"name": "Someone"}, "wa_id": m["from"]} for m in messages if m.get("from")
        ]
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": field, "value": value}]}],
    }


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict) -> bytes:
    return json.dumps(payload).encode()
