"""Webhook payloads: kept exactly as received, then every item in them handled."""

import json
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from relay.choices import EventKind, TemplateStatus
from relay.models import MessageTemplate, ProxyNumber, WebhookPayload
from relay.queue import enqueue
from relay.services.alerts import alert_raise
from relay.services.inbound import inbound_receive
from relay.services.statuses import status_apply
from relay.services.windows import template_approved_again
from relay.timeline import timeline_record

logger = logging.getLogger(__name__)

ALERTING_FIELDS = {
    "account_update",
    "phone_number_quality_update",
    "business_capability_update",
    "account_alerts",
    "security",
}


def webhook_store(*, body: bytes) -> WebhookPayload:
    """Keep the payload; its handling runs in the background once this commits."""
    with transaction.atomic():
        payload = WebhookPayload.objects.create(body=body.decode("utf-8"))
        enqueue("relay.tasks.process_webhook", payload.pk)
    return payload


def webhook_process(*, payload_id: int) -> None:
    """Handle every entry x change x item. Each item is handled on its own, so a bad one
    does not hold up the others; the payload stays unprocessed if any failed, and is tried
    again later (items already handled are recognised then and skipped)."""
    payload = WebhookPayload.objects.get(pk=payload_id)
    if payload.processed_at:
        return
    WebhookPayload.objects.filter(pk=payload.pk).update(attempts=F("attempts") + 1)
    errors = []
    for entry in json.loads(payload.body).get("entry") or []:
        for change in entry.get("changes") or []:
            errors += _process_change(change.get("field"), change.get("value") or {})
    WebhookPayload.objects.filter(pk=payload.pk).update(
        processed_at=None if errors else timezone.now(), error="\n".join(errors)
    )


def _process_change(field: str, value: dict) -> list[str]:
    if field != "messages":
        return _guarded(management_event, field=field, value=value)
    errors = []
    phone_number_id = (value.get("metadata") or {}).get("phone_number_id")
    number = ProxyNumber.objects.filter(phone_number_id=phone_number_id).first()
    profiles = {c.get("wa_id") or c.get("user_id"): c for c in value.get("contacts") or []}
    for raw in value.get("messages") or []:
        if number is None:
            with transaction.atomic():
                timeline_record(EventKind.WEBHOOK_UNKNOWN_NUMBER, phone_number_id=phone_number_id)
            continue
        sender = raw.get("from") or raw.get("from_user_id")
        errors += _guarded(
            inbound_receive, number=number, raw=raw, profile=profiles.get(sender, {})
        )
    for raw in value.get("statuses") or []:
        errors += _guarded(status_apply, raw)
    for error in value.get("errors") or []:
        # System, app or account problems, not about one message: an operator should know.
        code, title = error.get("code"), error.get("title", "")
        with transaction.atomic():
            timeline_record(EventKind.WEBHOOK_ERROR, code=code)
            alert_raise("whatsapp_error", f"WhatsApp reported error {code}: {title}")
    return errors


def _guarded(handler, *args, **kwargs) -> list[str]:
    try:
        handler(*args, **kwargs)
    except Exception as exc:  # one bad item must not stop the rest of the batch
        logger.exception("webhook item failed")
        return [f"{handler.__name__}: {type(exc).__name__}"]
    return []


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
