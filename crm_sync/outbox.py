"""The transactional outbox: a CRM event row is written in the transaction of the timeline
event it reports (relay.signals.timeline_events_recorded), so a crash can neither lose an
event nor report a change that rolled back. Only the types some active endpoint subscribes
to are written; what subscribes is read once every few seconds, not on every change."""

import time
import uuid

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crm_sync.events import TYPES, event_data
from crm_sync.models import Endpoint, OutboxEvent
from relay.inserts import insert_many
from relay.models import RelaySession
from relay.signals import timeline_events_recorded

SUBSCRIPTIONS_KEPT_SECONDS = 5.0
_subscriptions = {"read_at": float("-inf"), "types": frozenset()}


def subscribed_types() -> frozenset[str]:
    """The event types active endpoints receive ("*": all), as of a few seconds ago."""
    now = time.monotonic()
    if now - _subscriptions["read_at"] > SUBSCRIPTIONS_KEPT_SECONDS:
        types: set[str] = set()
        for events in Endpoint.objects.filter(active=True).values_list("events", flat=True):
            types.update(events)
        _subscriptions.update(read_at=now, types=frozenset(types))
    return _subscriptions["types"]


@receiver([post_save, post_delete], sender=Endpoint)
def _subscriptions_changed(**kwargs) -> None:
    _subscriptions["read_at"] = float("-inf")  # read again at the next change


@receiver(timeline_events_recorded)
def outbox_record(sender, events, **kwargs) -> None:
    wanted = subscribed_types()
    if not wanted:
        return
    reported = [
        (event, TYPES[event.kind])
        for event in events
        if event.kind in TYPES
        and event.session_id is not None
        and ("*" in wanted or TYPES[event.kind] in wanted)
    ]
    if not reported:
        return
    sessions = RelaySession.objects.in_bulk({event.session_id for event, _ in reported})
    insert_many(
        [
            OutboxEvent(
                event_id=f"evt_{uuid.uuid4().hex}",
                type=event_type,
                session_id=event.session_id,
                external_ref=sessions[event.session_id].external_ref,
                timeline_event=event,
                data=event_data(event, sessions[event.session_id]),
                occurred_at=event.created_at,
            )
            for event, event_type in reported
        ]
    )
