"""What a WhatsApp webhook body must be before it is stored, and the characters no database
column takes, cleaned out of what it carries."""

import json
import re

from relay.crypto import lookup_hash

# Lone UTF-16 surrogates ("\ud800" escapes) and NUL: PostgreSQL stores neither in text.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


class EnvelopeError(ValueError):
    """The body is not a WhatsApp webhook; the message says why, for the 400 answer."""


def parse_envelope(body: bytes) -> dict:
    """The webhook's JSON, refused unless it is UTF-8 JSON of a WhatsApp Business Account
    event (Meta sends nothing else)."""
    if body.startswith(b"\xef\xbb\xbf"):
        raise EnvelopeError("the body starts with a byte order mark; Meta sends plain UTF-8")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvelopeError("the body is not UTF-8") from exc
    try:
        envelope = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise EnvelopeError("the body is nested too deeply") from exc
    except ValueError as exc:
        raise EnvelopeError(f"the body is not JSON: {exc}") from exc
    if not isinstance(envelope, dict) or envelope.get("object") != "whatsapp_business_account":
        raise EnvelopeError('the body is not a webhook with "object": "whatsapp_business_account"')
    if not isinstance(envelope.get("entry"), list):
        raise EnvelopeError('the body has no "entry" list')
    return envelope


def conversation_of(envelope: dict) -> str | None:
    """Who wrote to which of our numbers, as a keyed hash (no number in clear), for payloads
    that carry messages; payloads of one conversation are handled in the order they came."""
    for entry in envelope["entry"]:
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            for message in _list(value.get("messages")):
                sender = _dict(message).get("from") or _dict(message).get("from_user_id")
                number = _dict(value.get("metadata")).get("phone_number_id")
                if sender and number:
                    return lookup_hash(f"{number}:{sender}")
    return None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def cleaned(value):
    """`value` (parsed JSON) without what cannot be stored: NUL removed, lone surrogates
    replaced; and whether anything had to be."""
    if isinstance(value, str):
        fixed = UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else REPLACEMENT, value)
        return fixed, fixed != value
    changed = False
    if isinstance(value, list):
        fixed_list = []
        for item in value:
            item, item_changed = cleaned(item)
            fixed_list.append(item)
            changed |= item_changed
        return fixed_list, changed
    if isinstance(value, dict):
        fixed_dict = {}
        for key, item in value.items():
            (key, key_changed), (item, item_changed) = cleaned(key), cleaned(item)
            fixed_dict[key] = item
            changed |= key_changed or item_changed
        return fixed_dict, changed
    return value, False
