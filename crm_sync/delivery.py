"""Delivering CRM events. The dispatcher gives each new outbox event to the endpoints that
subscribe (one delivery each); senders claim due deliveries (FOR UPDATE SKIP LOCKED) and POST
them, signed. A booking's events reach an endpoint in order: a delivery is claimed only when
no earlier one of its booking is pending there. One slow or dead endpoint holds at most
CRM_IN_FLIGHT_PER_ENDPOINT senders; the others go on. A failure is retried after about 5 s,
30 s, 2 min, 10 min, 30 min, 1 h, then every 3 h, with jitter; after about a day it is
dead-lettered, and an endpoint that failed all that time is paused, with an operator alert."""

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

import requests
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from crm_sync.models import Attempt, Delivery, DeliveryStatus, Endpoint, OutboxEvent
from crm_sync.signing import signed_headers
from relay.models import Message
from relay.services.alerts import alert_raise

RETRY_AFTER_SECONDS = [5, 30, 120, 600, 1800, 3600] + [3 * 3600] * 7  # about a day in all
JITTER = 0.2
CLAIM_SECONDS = 60  # a sender that died lets its deliveries go after this
ANSWER_KEPT = 2000  # characters of an answer kept with its attempt
_http = threading.local()


def events_fan_out(*, limit: int = 500) -> int:
    """Give new outbox events to their endpoints, oldest first; how many were given. Plain
    FOR UPDATE, not SKIP LOCKED: two dispatchers take turns, so deliveries are made in the
    order of the events."""
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.filter(fanned_out=False).order_by("pk").select_for_update()[:limit]
        )
        if not events:
            return 0
        endpoints = list(Endpoint.objects.filter(active=True))
        now = timezone.now()
        Delivery.objects.bulk_create(
            [
                Delivery(
                    endpoint=endpoint,
                    event=event,
                    session_id=event.session_id,
                    next_attempt_at=now,
                )
                for event in events
                for endpoint in endpoints
                if endpoint.subscribes_to(event.type)
            ],
            ignore_conflicts=True,
        )
        OutboxEvent.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out=True)
    return len(events)


def deliveries_claim(*, limit: int) -> list[Delivery]:
    """Up to `limit` deliveries due now, each the oldest pending one of its booking at its
    endpoint, at endpoints that are neither paused nor holding their share of senders."""
    now = timezone.now()
    earlier = Delivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        session=OuterRef("session"),
        status=DeliveryStatus.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    share = settings.CRM_IN_FLIGHT_PER_ENDPOINT
    busy = Counter(
        dict(
            Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_until__gt=now)
            .values_list("endpoint")
            .annotate(sending=Count("pk"))
            .values_list("endpoint", "sending")
        )
    )
    full = [endpoint for endpoint, sending in busy.items() if sending >= share]
    with transaction.atomic():
        candidates = (
            Delivery.objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                endpoint__active=True,
                endpoint__paused_at__isnull=True,
            )
            .exclude(endpoint__in=full)
            .exclude(Exists(earlier))
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "endpoint_id")[: limit * share]
        )
        ids = []
        for pk, endpoint_id in candidates:  # no endpoint beyond its share, this batch too
            if len(ids) < limit and busy[endpoint_id] < share:
                ids.append(pk)
                busy[endpoint_id] += 1
        Delivery.objects.filter(pk__in=ids).update(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
        )
    return list(
        Delivery.objects.filter(pk__in=ids)
        .select_related("endpoint", "event__timeline_event")
        .order_by("next_attempt_at", "pk")
    )


def delivery_send(delivery: Delivery) -> bool:
    """POST one delivery, keep the attempt, and plan what follows; True when it was taken."""
    endpoint, event = delivery.endpoint, delivery.event
    body = json.dumps(
        {
            "type": event.type,
            "timestamp": event.occurred_at.isoformat(),
            "data": _data_for(endpoint, event),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    at = timezone.now()
    headers = signed_headers(endpoint, event.event_id, body, at=at)
    started = time.monotonic()
    status_code, error, answer, retry_after = None, "", "", None
    try:
        response = _session().post(
            endpoint.url,
            data=body.encode(),
            headers=headers,
            timeout=settings.CRM_TIMEOUT_SECONDS,
            allow_redirects=False,  # a redirect is a failure: the body would not follow
        )
        status_code, answer = response.status_code, response.text[:ANSWER_KEPT]
        retry_after = response.headers.get("Retry-After")
    except requests.Timeout:
        error = f"no answer within {settings.CRM_TIMEOUT_SECONDS:g} s"
    except requests.ConnectionError as exc:
        error = f"could not connect: {type(exc).__name__}"
    except requests.RequestException as exc:
        error = f"request failed: {type(exc).__name__}"
    duration_ms = round((time.monotonic() - started) * 1000)
    taken = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery,
            status_code=status_code,
            error=error or ("" if taken else f"answered {status_code}"),
            duration_ms=duration_ms,
            answer_start=answer,
            at=at,
        )
        if taken:
            _delivered(delivery)
        else:
            _failed(delivery, status_code, retry_after)
    return taken


def deliveries_send_due(*, limit: int = 50) -> int:
    """One round, in this thread (tests, and the benchmark's baseline): fan out, then send
    what is due; how many were sent."""
    events_fan_out()
    sent = 0
    for delivery in deliveries_claim(limit=limit):
        delivery_send(delivery)
        sent += 1
    return sent


def deliveries_run(stop: threading.Event, *, senders: int) -> None:
    """Until `stop`: fan out and keep `senders` threads sending, each claiming one delivery
    at a time, so that a slow endpoint holds only the threads it is given."""

    running: set = set()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        try:
            while not stop.is_set():
                events_fan_out()
                free = senders - len(running)
                claimed = deliveries_claim(limit=free) if free else []
                running |= {pool.submit(_send, delivery) for delivery in claimed}
                if running:
                    _, running = wait(running, timeout=0.05, return_when=FIRST_COMPLETED)
                if not claimed:
                    close_old_connections()
                    stop.wait(settings.CRM_IDLE_SECONDS)
            wait(running)
        finally:
            # Each sender thread's connection, then this one's (one task per thread, at once,
            # so that each thread takes one).
            barrier = threading.Barrier(senders)
            wait([pool.submit(_close_after, barrier) for _ in range(senders)])
            connection.close()


def _send(delivery: Delivery) -> None:
    try:
        delivery_send(delivery)
    finally:
        close_old_connections()  # each sender thread keeps its own, as CONN_MAX_AGE says


def _close_after(barrier: threading.Barrier) -> None:
    barrier.wait(timeout=CLAIM_SECONDS)
    connection.close()


def _session() -> requests.Session:
    # One per sender thread: connections to an endpoint are kept alive between deliveries.
    if getattr(_http, "session", None) is None:
        _http.session = requests.Session()
    return _http.session


def _data_for(endpoint: Endpoint, event: OutboxEvent) -> dict:
    data = dict(event.data)
    if event.type == "message.relayed" and endpoint.include_text and event.timeline_event:
        # The copy that went out, as the privacy guard passed it on; never the original.
        copy_id = event.timeline_event.detail.get("copy_id")
        copy = Message.objects.filter(pk=copy_id).only("body").first() if copy_id else None
        if copy is not None:
            data["text"] = copy.body
    return data


def _delivered(delivery: Delivery) -> None:
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.DELIVERED,
        attempts=delivery.attempts + 1,
        delivered_at=now,
        claimed_until=None,
    )
    Endpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(
        failing_since=None
    )


def _failed(delivery: Delivery, status_code: int | None, retry_after: str | None) -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    endpoint = delivery.endpoint
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    if status_code == 410:  # Gone: the receiver asks for no more
        _pause(endpoint, "it answered 410 Gone")
    if attempts > len(RETRY_AFTER_SECONDS):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DEAD, attempts=attempts, claimed_until=None
        )
        # Retries span about a day: one with nothing but failures since has been down as long.
        if Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).exists():
            _pause(endpoint, "every delivery failed for about a day")
        return
    delay = _retry_delay(RETRY_AFTER_SECONDS[attempts - 1], retry_after)
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts, next_attempt_at=now + timedelta(seconds=delay), claimed_until=None
    )


def _retry_delay(step: float, retry_after: str | None) -> float:
    """The step with ±20 % jitter; a Retry-After in seconds is honoured up to twice it."""
    delay = step * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 (spreading retries)
    if retry_after and retry_after.strip().isdigit():
        delay = min(max(delay, float(retry_after)), 2 * step)
    return delay


def _pause(endpoint: Endpoint, why: str) -> None:
    paused = Endpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=True).update(
        paused_at=timezone.now(), paused_reason=why
    )
    if paused:
        alert_raise(
            "crm_endpoint_paused",
            f"CRM endpoint {endpoint.pk} ({endpoint.url}) is paused: {why}. Its events wait; "
            "resume it in the admin (CRM endpoints).",
        )
