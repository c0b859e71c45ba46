"""Webhook payloads: kept exactly as received, then every item in them handled by a worker.
The payload table is the workers' queue; a payload that fails is tried again later, with a
growing delay of its own, so that bad payloads never hold good ones back."""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone

from relay.choices import EventKind, TemplateStatus
from relay.crypto import seal
from relay.deferred import writes_deferred
from relay.inserts import insert_fast
from relay.models import MessageTemplate, ProxyNumber, WebhookPayload
from relay.prefetch import prefetching
from relay.queue import wake
from relay.services.alerts import alert_raise
from relay.services.inbound import inbound_prefetch, inbound_receive
from relay.services.statuses import status_apply
from relay.services.windows import template_approved_again
from relay.timeline import timeline_batch, timeline_record
from relay.webhooks.envelope import cleaned

logger = logging.getLogger(__name__)

ALERTING_FIELDS = {
    "account_update",
    "phone_number_quality_update",
    "business_capability_update",
    "account_alerts",
    "security",
}
WEBHOOK_ATTEMPTS = 10
# A worker that claims a payload and dies leaves it to others after this long.
LEASE = timedelta(minutes=5)
RETRY_FIRST_SECONDS = 30
RETRY_MAX_SECONDS = 3600
ROUND_ITEMS_PER_PAYLOAD = 10


@dataclass
class Item:
    """One thing a payload tells: a message, a status, an error, or an account event."""

    kind: str
    value: dict
    field: str = ""
    number: ProxyNumber | None = None
    profile: dict | None = None
    cleaned: bool = False  # characters no column stores were taken out of it


def webhook_store(*, body: bytes, conversation: str | None = None) -> int:
    """Keep the payload (one INSERT, one commit) and return its id; a worker handles it.
    Payloads of one `conversation` (see envelope.conversation_of) are handled in order."""
    payload_id = insert_fast(
        WebhookPayload, body_ciphertext=seal(body.decode("utf-8")), conversation=conversation
    )
    wake()
    return payload_id


def webhooks_process_due(*, limit: int) -> int:
    """Claim up to `limit` due payloads, new ones first, and handle them in the order they
    came; how many. Small payloads of messages are handled together, as a round in one
    transaction; any other payload, and each of the round's if the round fails, on its own.
    After a payload that fails (or is continued later), the rest of its conversation waits
    for it."""
    payloads = _claim(limit)
    numbers: dict[str, ProxyNumber | None] = {}
    parsed = [(payload, list(_items(json.loads(payload.body), numbers))) for payload in payloads]
    waiting_behind: set[str] = set()
    for batch in _batches(parsed):
        batch = _without(batch, waiting_behind)
        if _handle_round(batch):
            continue
        for payload, items in batch:
            if payload.conversation in waiting_behind:
                _release([payload])
            elif not webhook_process(payload=payload, items=items) and payload.conversation:
                waiting_behind.add(payload.conversation)
    return len(payloads)


def _batches(parsed: list[tuple[WebhookPayload, list[Item]]]):
    """Runs of payloads that fit a round, and every other payload alone, in order."""
    run = []
    for payload, items in parsed:
        if _fits_a_round(payload, items):
            run.append((payload, items))
            continue
        if run:
            yield run
            run = []
        yield [(payload, items)]
    if run:
        yield run


def _without(batch: list, conversations: set[str]) -> list:
    """The batch, less the payloads of `conversations`, which are given back unhandled."""
    _release([payload for payload, _ in batch if payload.conversation in conversations])
    return [
        (payload, items) for payload, items in batch if payload.conversation not in conversations
    ]


def _release(payloads: list[WebhookPayload]) -> None:
    """Claimed but not tried: due again, its attempt not counted (it waits behind another)."""
    if payloads:
        WebhookPayload.objects.filter(pk__in=[payload.pk for payload in payloads]).update(
            attempts=F("attempts") - 1, next_attempt_at=None
        )


def _fits_a_round(payload: WebhookPayload, items: list[Item]) -> bool:
    """A first try at a small payload of messages (statuses, which update what the sending
    loops update, are handled on their own)."""
    small = 0 < len(items) <= ROUND_ITEMS_PER_PAYLOAD
    return payload.attempts == 1 and small and all(item.kind == "message" for item in items)


def _handle_round(together: list[tuple[WebhookPayload, list[Item]]]) -> bool:
    """Handle the payloads' messages in one transaction, with the rows they need read ahead
    (relay/prefetch.py); False (and nothing changed) if any of them failed."""
    if len(together) < 2:
        return False
    messages = [item for _, items in together for item in items]
    try:
        with transaction.atomic(), prefetching(), timeline_batch(), writes_deferred():
            inbound_prefetch([(item.number, item.value, item.profile) for item in messages])
            for item in messages:
                _handle(item)
            WebhookPayload.objects.filter(pk__in=[payload.pk for payload, _ in together]).update(
                processed_at=timezone.now(), error="", next_attempt_at=None
            )
    except Exception:  # the payloads are handled one by one next, each failure logged there
        logger.info("a round of %s webhook payloads failed; handling each alone", len(together))
        return False
    return True


def _claim(limit: int) -> list[WebhookPayload]:
    now = timezone.now()
    waiting = WebhookPayload.objects.filter(
        processed_at__isnull=True, attempts__lt=WEBHOOK_ATTEMPTS
    )
    # Messages are relayed in the order they came, whichever worker claims them: a payload
    # waits while an earlier one of its conversation waits for a retry or is being handled.
    held_back = waiting.filter(
        next_attempt_at__gt=now, conversation=OuterRef("conversation"), pk__lt=OuterRef("pk")
    )
    due = waiting.filter(Q(conversation__isnull=True) | ~Exists(held_back))
    # New payloads first, then retries as they fell due (one index each).
    new = due.filter(next_attempt_at__isnull=True).order_by("id")
    retries = due.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "id")
    with transaction.atomic():
        locked = list(new.select_for_update(skip_locked=True)[:limit])
        if len(locked) < limit:
            locked += retries.select_for_update(skip_locked=True)[: limit - len(locked)]
        payloads = _first_in_line(locked, waiting)
        WebhookPayload.objects.filter(pk__in=[p.pk for p in payloads]).update(
            attempts=F("attempts") + 1, next_attempt_at=now + LEASE
        )
    for payload in payloads:
        payload.attempts += 1
    return sorted(payloads, key=lambda payload: payload.pk)


def _first_in_line(locked: list[WebhookPayload], waiting) -> list[WebhookPayload]:
    """The payloads of `locked` that no waiting payload outside them comes before in their
    conversation (one another worker holds, or one not claimed with them)."""
    if not locked:
        return []
    ids = [p.pk for p in locked]
    earlier = waiting.filter(
        conversation__in={p.conversation for p in locked if p.conversation}, pk__lt=max(ids)
    ).exclude(pk__in=ids)
    # Two reads, one index each, so that no index is kept of every waiting payload by
    # conversation (the webhook would write each new payload into it): new payloads by id
    # (only those other workers are claiming come before ours), and those being handled or
    # waiting for a retry by conversation.
    first_outside: dict[str, int] = {}
    for outside in (
        earlier.filter(next_attempt_at__isnull=True),
        earlier.filter(next_attempt_at__isnull=False),
    ):
        for conversation, first in (
            outside.order_by().values_list("conversation").annotate(first=Min("id"))
        ):
            first_outside[conversation] = min(first, first_outside.get(conversation, first))
    return [p for p in locked if p.pk < first_outside.get(p.conversation, p.pk + 1)]


def webhook_process(*, payload: WebhookPayload, items: list[Item] | None = None) -> bool:
    """Handle every item of a claimed payload, each on its own, so that a bad one does not
    hold up the others; True if it is done. A payload too large to handle in one slice is
    continued in the next round; one with a failed item is tried again later (items already
    handled are then recognised and skipped), and an operator is told when it never
    succeeds."""
    if items is None:
        items = list(_items(json.loads(payload.body), {}))
    deadline = time.monotonic() + settings.RELAY_WEBHOOK_SLICE_SECONDS
    # Errors of this attempt's earlier slices; a new attempt starts afresh.
    errors = [payload.error] if payload.error and payload.items_done else []
    for index in range(payload.items_done, len(items)):
        if time.monotonic() > deadline and index > payload.items_done:
            _continue_later(payload, index, errors)
            return False
        errors += _guarded(items[index], first_attempt=payload.attempts == 1)
    _finish(payload, errors)
    return not errors


def _continue_later(payload: WebhookPayload, index: int, errors: list[str]) -> None:
    WebhookPayload.objects.filter(pk=payload.pk).update(
        items_done=index,
        error="\n".join(errors),
        attempts=F("attempts") - 1,  # not a failure: the rest is due at once
        next_attempt_at=timezone.now(),
    )
    wake()


def _finish(payload: WebhookPayload, errors: list[str]) -> None:
    now = timezone.now()
    if not errors:
        WebhookPayload.objects.filter(pk=payload.pk).update(
            processed_at=now, error="", next_attempt_at=None
        )
        return
    error = "\n".join(errors)
    delay = min(RETRY_FIRST_SECONDS * 2 ** (payload.attempts - 1), RETRY_MAX_SECONDS)
    with transaction.atomic():
        WebhookPayload.objects.filter(pk=payload.pk).update(
            items_done=0,
            error=error,
            next_attempt_at=now + timedelta(seconds=delay * random.uniform(0.8, 1.2)),  # noqa: S311
        )
        if payload.attempts >= WEBHOOK_ATTEMPTS:
            alert_raise(
                "webhook_failed",
                f"Webhook payload #{payload.pk} could not be handled after "
                f"{payload.attempts} attempts and is no longer retried: {error[:300]}",
            )


def _items(body: dict, numbers: dict[str, ProxyNumber | None]):
    """The payload's items in the order Meta sent them, cleaned of what cannot be stored.
    `numbers` keeps the proxy numbers looked up, by phone number id."""
    for entry in _list(body.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            field, value = cleaned(_dict(change).get("field"))[0], _dict(_dict(change).get("value"))
            if field != "messages":
                yield Item("management", cleaned(value)[0], field=str(field))
                continue
            metadata = cleaned(_dict(value.get("metadata")))[0]
            phone_number_id = str(metadata.get("phone_number_id"))
            if phone_number_id not in numbers:
                numbers[phone_number_id] = ProxyNumber.objects.filter(
                    phone_number_id=phone_number_id
                ).first()
            number = numbers[phone_number_id]
            contacts = cleaned(_dicts(value, "contacts"))[0]
            profiles = {c.get("wa_id") or c.get("user_id"): c for c in contacts}
            for original in _dicts(value, "messages"):
                if number is None:
                    yield Item("unknown_number", {"phone_number_id": phone_number_id})
                    continue
                raw, changed = cleaned(original)
                sender = raw.get("from") or raw.get("from_user_id")
                profile = profiles.get(sender, {})
                yield Item("message", raw, number=number, profile=profile, cleaned=changed)
            for raw in _dicts(value, "statuses"):
                yield Item("status", cleaned(raw)[0])
            for error in _dicts(value, "errors"):
                yield Item("error", cleaned(error)[0])


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: dict, key: str) -> list[dict]:
    return [item for item in _list(value.get(key)) if isinstance(item, dict)]


def _guarded(item: Item, *, first_attempt: bool) -> list[str]:
    try:
        _handle(item)
    except Exception as exc:  # one bad item must not stop the rest of the batch
        if first_attempt:
            logger.exception("webhook item failed")
        else:  # its traceback is in the log already
            logger.warning("webhook item failed again: %s", type(exc).__name__)
        return [f"{item.kind}: {type(exc).__name__}"]
    return []


def _handle(item: Item) -> None:
    if item.kind == "message":
        inbound_receive(
            number=item.number, raw=item.value, profile=item.profile, cleaned=item.cleaned
        )
    elif item.kind == "status":
        status_apply(item.value)
    elif item.kind == "management":
        management_event(field=item.field, value=item.value)
    elif item.kind == "unknown_number":
        with transaction.atomic():
            timeline_record(EventKind.WEBHOOK_UNKNOWN_NUMBER, **item.value)
    elif item.kind == "error":
        # System, app or account problems, not about one message: an operator should know.
        code, title = item.value.get("code"), item.value.get("title", "")
        with transaction.atomic():
            timeline_record(EventKind.WEBHOOK_ERROR, code=code)
            alert_raise("whatsapp_error", f"WhatsApp reported error {code}: {title}")


@transaction.atomic
def management_event(*, field: str, value: dict) -> None:
    """Template, number and account events: recorded, and surfaced when they need a person."""
    event = value.get("event") or value.get("current_limit") or ""
    timeline_record(EventKind.WEBHOOK_MANAGEMENT, field=str(field), event=str(event))
    if field == "message_template_status_update":
        _template_status_changed(value)
    elif field in ALERTING_FIELDS:
        alert_raise(field, f"WhatsApp reported {field}: {event or json.dumps(value)[:300]}")


def _template_status_changed(value: dict) -> None:
    status = value.get("event", "")
    templates = MessageTemplate.objects.filter(name=value.get("message_template_name"))
    if value.get("message_template_language"):
        templates = templates.filter(language=value["message_template_language"])
    if status in TemplateStatus.values:
        templates.update(status=status)
    if status == TemplateStatus.APPROVED:
        for template in templates:
            template_approved_again(template=template)
        return
    alert_raise(
        "template_status",
        f"Template {value.get('message_template_name')} is now {status}: "
        "messages outside the 24-hour window wait until it is approved again.",
    )
