"""The session timeline: every change is recorded in the transaction that makes it, and
announced to other apps once that transaction has committed."""

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from django.db import connection, transaction

from relay.choices import ActorKind, Direction, EventKind, Role
from relay.inserts import insert_many
from relay.models import ApiKey, Message, Participant, RelaySession, TimelineEvent
from relay.prefetch import prefetch_forget
from relay.signals import timeline_event_committed, timeline_events_recorded


@dataclass(frozen=True)
class Actor:
    """Who made a change: a participant's contact, an agent, an API client or Switchboard."""

    kind: ActorKind
    contact_id: int | None = None
    user_id: int | None = None  # an agent: a Django user
    api_key_id: int | None = None

    @classmethod
    def of_participant(cls, participant: Participant) -> "Actor":
        kind = ActorKind.PARTNER if participant.role == Role.PARTNER else ActorKind.CUSTOMER
        return cls(kind, contact_id=participant.contact_id)

    @classmethod
    def of_api_key(cls, api_key: ApiKey) -> "Actor":
        return cls(ActorKind.API, api_key_id=api_key.pk)

    @classmethod
    def of_user(cls, user) -> "Actor":
        return cls(ActorKind.AGENT, user_id=user.pk)

    @classmethod
    def of_message(cls, message: Message) -> "Actor":
        """The writer of an inbound message (a stranger until its session is known);
        Switchboard for outbound ones."""
        if message.direction != Direction.INBOUND:
            return SYSTEM
        if message.participant_id is not None:
            return cls.of_participant(message.participant)
        return cls(ActorKind.CONTACT, contact_id=message.contact_id)


SYSTEM = Actor(ActorKind.SYSTEM)
_batch = threading.local()


class TimelineError(RuntimeError):
    pass


def timeline_record(
    kind: EventKind,
    *,
    session: RelaySession | None = None,
    message: Message | None = None,
    actor: Actor | None = None,
    **detail,
) -> TimelineEvent:
    """Record one change. The caller is inside the transaction that makes the change, so the
    event exists exactly when the change does. `detail` holds identifiers and counts only:
    no phone numbers, no message text. `actor` defaults to the message's writer."""
    kind = EventKind(kind)  # only the kinds of the one enum, never a string made up here
    if not _inside_a_transaction():
        raise TimelineError(f"{kind} must be recorded inside the transaction of its change")
    if actor is None:
        actor = Actor.of_message(message) if message is not None else SYSTEM
    event = TimelineEvent(
        kind=kind,
        session_id=session.pk if session is not None else getattr(message, "session_id", None),
        message=message,
        actor=actor.kind,
        actor_contact_id=actor.contact_id,
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        detail=detail,
    )
    if kind.startswith("session."):
        prefetch_forget("bindings")  # sessions read ahead for a round may have changed
    batch = getattr(_batch, "events", None)
    if batch is not None:
        batch.append(event)
        return event
    event.save()
    _recorded([event])
    _announce([event])
    return event


@contextmanager
def timeline_batch():
    """Events recorded inside are written together, in one INSERT, when the block ends: for
    the hot path, where one change makes several. Open it inside the change's transaction."""
    if getattr(_batch, "events", None) is not None:
        yield  # an outer batch writes them
        return
    _batch.events = []
    try:
        yield
        if _batch.events:
            insert_many(_batch.events)
            _recorded(_batch.events)
            _announce(_batch.events)
    finally:
        _batch.events = None


def _recorded(events: list[TimelineEvent]) -> None:
    if timeline_events_recorded.has_listeners():
        timeline_events_recorded.send(TimelineEvent, events=events)


def _announce(events: list[TimelineEvent]) -> None:
    if not timeline_event_committed.has_listeners():
        return
    # send_robust: a failing receiver is logged by Django and stops neither the others nor
    # the caller, whose change has committed already.
    for event in events:
        transaction.on_commit(
            partial(timeline_event_committed.send_robust, TimelineEvent, event=event)
        )


def _inside_a_transaction() -> bool:
    # The blocks a test case opens around each test do not count: they never commit.
    return any(not block._from_testcase for block in connection.atomic_blocks)
