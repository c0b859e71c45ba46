"""Writing CRM endpoints and replays: creation with a secret shown once, rotation with an
overlap, resuming a paused endpoint, and replaying one event or a dead-lettered stretch."""

import ipaddress
import socket
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm_sync.events import EVENT_TYPES
from crm_sync.models import Delivery, DeliveryStatus, Endpoint, OutboxEvent
from crm_sync.signing import secret_new
from relay import crypto
from relay.exceptions import RelayError

ROTATION_OVERLAP = timedelta(hours=24)


def url_problem(url: str) -> str | None:
    """Why events may not go to `url`; None when they may. Loopback and private addresses
    are refused unless CRM_ALLOW_PRIVATE_URLS (the server would be calling itself)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "give an http or https URL, e.g. https://crm.example.com/webhooks"
    if settings.CRM_ALLOW_PRIVATE_URLS:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror:
        return f"'{parts.hostname}' cannot be found"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            return f"'{parts.hostname}' is a loopback or private address ({ip}): not allowed"
    return None


def events_problem(events) -> str | None:
    if not isinstance(events, list) or not events:
        return 'list the event types, e.g. ["booking.status_changed"], or ["*"] for all'
    unknown = [name for name in events if name != "*" and name not in EVENT_TYPES]
    if unknown:
        return (
            f"unknown event types {', '.join(map(str, unknown))}; types: {', '.join(EVENT_TYPES)}"
        )
    return None


def endpoint_create(
    *, url: str, events: list[str], include_text: bool = False, description: str = ""
) -> tuple[Endpoint, str]:
    """The endpoint and its secret, which is shown this once."""
    secret = secret_new()
    endpoint = Endpoint.objects.create(
        url=url,
        events=events,
        include_text=include_text,
        description=description,
        secret_ciphertext=crypto.encrypt(secret),
    )
    return endpoint, secret


@transaction.atomic
def endpoint_rotate_secret(endpoint: Endpoint, *, overlap: timedelta = ROTATION_OVERLAP) -> str:
    """A new secret; the one it replaces signs beside it for `overlap`, so receivers can
    switch without losing a delivery."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = secret_new()
    endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
    endpoint.previous_secret_expires_at = timezone.now() + overlap
    endpoint.secret_ciphertext = crypto.encrypt(secret)
    endpoint.save(
        update_fields=[
            "previous_secret_ciphertext",
            "previous_secret_expires_at",
            "secret_ciphertext",
        ]
    )
    return secret


def endpoint_resume(endpoint: Endpoint) -> None:
    """Events that waited go now, in order; its failures are forgiven."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=None, paused_reason="", failing_since=None
    )


@transaction.atomic
def event_replay(event: OutboxEvent) -> int:
    """Send `event` again (same webhook-id) to every active endpoint that subscribes;
    how many deliveries were set going."""
    if not event.fanned_out:
        return 0  # its first deliveries have not even been made
    now = timezone.now()
    endpoints = [e for e in Endpoint.objects.filter(active=True) if e.subscribes_to(event.type)]
    for endpoint in endpoints:
        Delivery.objects.update_or_create(
            endpoint=endpoint,
            event=event,
            defaults={
                "session_id": event.session_id,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "claimed_until": None,
            },
        )
    return len(endpoints)


def endpoint_replay(endpoint: Endpoint, *, since: datetime) -> int:
    """Everything dead-lettered for `endpoint` from events since `since` goes again, in
    order per booking; how many."""
    if since > timezone.now():
        raise RelayError("'since' is in the future", field="since")
    return Delivery.objects.filter(
        endpoint=endpoint, status=DeliveryStatus.DEAD, event__occurred_at__gte=since
    ).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_until=None,
    )
