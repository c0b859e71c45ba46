"""One session as the inbox shows it: the transcript in order (who wrote what to whom, with
delivery ticks, media, redactions and private notes), and beside it what the agent decides
with (SLA clocks, the booking's status, quotes, the handover, the routing decision, the
timeline). A fixed number of queries, whatever the length of the session."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from crm_sync.transcripts import event_what
from relay import phones
from relay.choices import (
    MEDIA_TYPES,
    ActorKind,
    Direction,
    EventKind,
    MessageStatus,
    Origin,
    QuoteStatus,
    Role,
)
from relay.models import Message, Participant, RelaySession, ThreadView, TimelineEvent
from relay.privacy import redact
from routing.models import Agent, RoutingDecision, Workflow
from sla.selectors import clocks_shown

TIMELINE_SHOWN = 60
PRESENT_FOR = timedelta(seconds=20)  # a viewer who polled this recently is still here
TICKS = {
    MessageStatus.QUEUED: ("…", "queued"),
    MessageStatus.HELD: ("…", "held until they write"),
    MessageStatus.SENDING: ("…", "sending"),
    MessageStatus.UNCERTAIN: ("✓", "sent, awaiting confirmation"),
    MessageStatus.SENT: ("✓", "sent"),
    MessageStatus.DELIVERED: ("✓✓", "delivered"),
    MessageStatus.READ: ("✓✓", "read"),
    MessageStatus.FAILED: ("✗", "failed"),
}
REFUSED = {MessageStatus.REJECTED, MessageStatus.OUT_OF_SESSION, MessageStatus.DISCARDED}
# What the rest of the timeline says about a message is shown on the message itself.
TIMELINE_LEFT_OUT = {
    EventKind.PARTICIPANT_BOUND,
    EventKind.MESSAGE_STATUS_OTHER,
    EventKind.MESSAGE_SENT,
    EventKind.MESSAGE_DELIVERED,
}


@dataclass
class Tick:
    symbol: str
    label: str
    status: str
    reason: str = ""


@dataclass
class Entry:
    id: int
    at: datetime
    side: str  # customer, partner, agent, system or note: where the bubble sits
    who: str
    to: str = ""
    body: str = ""
    type: str = "text"
    redacted: bool = False
    media: bool = False
    filename: str = ""
    ticks: list[Tick] = field(default_factory=list)
    reason: str = ""
    refused: bool = False  # not passed on: the reason says why
    held: bool = False
    status: str = ""


@dataclass
class Thread:
    session: RelaySession
    workflow: Workflow | None
    sides: dict[str, Participant]
    numbers_shown: bool
    entries: list[Entry]
    clocks: list[dict]
    quotes: list
    handover: object
    slots: list
    decision: object
    timeline: list[dict]
    next_statuses: list[str]
    agents: list
    last_event_id: int
    last_message_id: int


def alias(participant: Participant | None, session: RelaySession) -> str:
    """How agents name a side: by role and name, never by number."""
    if participant is None:
        return "someone"
    role = "Customer" if participant.role == Role.CUSTOMER else "Partner"
    return f"{role} · {participant.name or session.external_ref}"


def identity(participant: Participant, numbers_shown: bool) -> str:
    contact = participant.contact
    return (contact.phone or contact.bsuid) if numbers_shown else contact.masked_identity


def thread_of(session: RelaySession, *, numbers_shown: bool) -> Thread:
    participants = list(
        session.participants.select_related("contact", "proxy_number").order_by("role", "id")
    )
    by_id = {p.pk: p for p in participants}
    sides = {p.role: p for p in participants if p.rerouted_at is None}
    events = list(
        TimelineEvent.objects.filter(session=session)
        .exclude(kind__in=TIMELINE_LEFT_OUT)
        .select_related("actor_user", "message__participant")
        .order_by("-id")[:TIMELINE_SHOWN]
    )
    writers = dict(
        TimelineEvent.objects.filter(
            session=session, kind=EventKind.MESSAGE_QUEUED, actor=ActorKind.AGENT
        ).values_list("message_id", "actor_user__username")
    )
    entries = _messages(session, by_id, numbers_shown, writers)
    entries += [_note(note) for note in session.notes.select_related("author")]
    entries.sort(key=lambda entry: (entry.at, entry.side == "note", entry.id))
    workflow = Workflow.objects.filter(slug=session.workflow).first()
    return Thread(
        session=session,
        workflow=workflow,
        sides=sides,
        numbers_shown=numbers_shown,
        entries=entries,
        clocks=_clocks(session),
        quotes=list(session.quotes.filter(status=QuoteStatus.PENDING).order_by("-id")),
        handover=session.handovers.order_by("-id").first(),
        slots=list(session.slots.order_by("starts_at")),
        decision=RoutingDecision.objects.filter(session=session).first(),
        timeline=[_event(event, by_id, session) for event in events],
        next_statuses=workflow.transitions.get(session.booking_status, []) if workflow else [],
        agents=_agents(session),
        last_event_id=events[0].pk if events else 0,
        last_message_id=max((e.id for e in entries if e.side != "note"), default=0),
    )


def thread_version(session: RelaySession) -> tuple[int, str]:
    """What a live poll compares, in two small queries: the newest timeline event shown, and
    what waits for an agent (held messages, then pending quotes, by id)."""
    latest = (
        TimelineEvent.objects.filter(session=session)
        .exclude(kind__in=TIMELINE_LEFT_OUT)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    held = session.messages.filter(status=MessageStatus.AWAITING_AGENT).order_by("id")
    quotes = session.quotes.filter(status=QuoteStatus.PENDING).order_by("-id")
    return latest or 0, waiting_key(
        list(held.values_list("pk", flat=True)), list(quotes.values_list("pk", flat=True))
    )


def waiting_key(held_ids: list[int], quote_ids: list[int]) -> str:
    """Names what waits for an agent: held messages (oldest first), then pending quotes
    (newest first), as the thread lists them."""
    return ",".join([str(pk) for pk in held_ids] + [f"q{pk}" for pk in quote_ids])


def viewers_besides(session: RelaySession, user) -> list[str]:
    since = timezone.now() - PRESENT_FOR
    others = ThreadView.objects.filter(session=session, seen_at__gte=since).exclude(user=user)
    return sorted(others.values_list("user__username", flat=True))


def thread_seen(session: RelaySession, user, *, read_up_to: int) -> None:
    """The agent has the thread open and has seen its messages up to `read_up_to`."""
    view, created = ThreadView.objects.get_or_create(
        user=user,
        session=session,
        defaults={"seen_at": timezone.now(), "read_up_to": read_up_to},
    )
    if not created:
        ThreadView.objects.filter(pk=view.pk).update(
            seen_at=timezone.now(), read_up_to=max(view.read_up_to, read_up_to)
        )


def replied_since(session: RelaySession, user, after_event_id: int) -> list[TimelineEvent]:
    """Replies by someone else (another agent, an API client) since the agent last looked."""
    answered = (EventKind.MESSAGE_QUEUED, EventKind.MESSAGE_FORWARDED, EventKind.MESSAGE_ANSWERED)
    return list(
        TimelineEvent.objects.filter(
            session=session,
            pk__gt=after_event_id,
            kind__in=answered,
            actor__in=(ActorKind.AGENT, ActorKind.API),
        )
        .exclude(actor_user=user)
        .select_related("actor_user", "message__participant")
        .order_by("pk")
    )


def _messages(session, by_id, numbers_shown, writers) -> list[Entry]:
    copies = Message.objects.filter(direction=Direction.OUTBOUND).order_by("id")
    messages = (
        session.messages.exclude(origin=Origin.RELAYED)
        .prefetch_related(Prefetch("relays", queryset=copies))
        .order_by("id")
    )
    shown_as_written = numbers_shown or session.handed_over
    entries = []
    for message in messages:
        participant = by_id.get(message.participant_id)
        if message.direction == Direction.INBOUND:
            entries.append(_inbound(message, participant, session, by_id, shown_as_written))
        else:
            entries.append(_outbound(message, participant, session, writers))
    return entries


def _inbound(message, participant, session, by_id, shown_as_written) -> Entry:
    copies = list(message.relays.all())
    raw = message.payload or {}
    kind = raw.get("type", message.type)
    written = message.body
    passed_on = copies[-1].body if copies else None
    if passed_on is None:
        region = phones.region_of(message.contact.phone) if message.contact_id else None
        passed_on = redact(written, region=region).text
    entry = Entry(
        id=message.pk,
        at=message.created_at,
        side=participant.role if participant else "system",
        who=alias(participant, session) if participant else "Someone outside the session",
        to=alias(_counterpart(participant, by_id), session) if participant else "",
        body=written if shown_as_written else passed_on,
        type=kind,
        redacted=passed_on != written,
        media=kind in MEDIA_TYPES,
        filename=(raw.get(kind) or {}).get("filename", "") if kind in MEDIA_TYPES else "",
        ticks=[_tick(copy) for copy in copies],
        held=message.status == MessageStatus.AWAITING_AGENT,
        status=message.get_status_display(),
    )
    if message.status not in (MessageStatus.RELAYED, MessageStatus.PENDING):
        entry.reason = message.status_reason or message.get_status_display()
        entry.refused = message.status in REFUSED
    return entry


def _outbound(message, participant, session, writers) -> Entry:
    writer = writers.get(message.pk)
    if message.origin == Origin.API:
        who = f"Agent · {writer}" if writer else "Booking system"
        side = "agent"
    else:
        who, side = "Switchboard", "system"
    return Entry(
        id=message.pk,
        at=message.created_at,
        side=side,
        who=who,
        to=alias(participant, session),
        body=message.body or _template_name(message),
        type=message.type,
        ticks=[_tick(message)],
        status=message.get_status_display(),
    )


def _template_name(message: Message) -> str:
    name = (message.payload or {}).get("template", {}).get("name") or message.payload.get("name")
    return f"template {name}" if name else f"({message.type})"


def _tick(message: Message) -> Tick:
    symbol, label = TICKS.get(message.status, ("", message.get_status_display().lower()))
    reason = message.status_reason or message.error_message
    return Tick(symbol, label, message.status, reason if message.status == "failed" else "")


def _counterpart(participant: Participant, by_id: dict) -> Participant | None:
    others = [p for p in by_id.values() if p.role != participant.role and p.rerouted_at is None]
    return others[0] if others else None


def _note(note) -> Entry:
    author = note.author.get_username() if note.author else "an agent"
    return Entry(
        id=note.pk, at=note.created_at, side="note", who=f"Note · {author}", body=note.body
    )


def _clocks(session: RelaySession) -> list[dict]:
    clocks = list(session.sla_clocks.all())
    shown = clocks_shown([c for c in clocks if c.stopped_at is None])
    for clock in shown:
        clock["label"] = clock["clock"].replace("_", " ").capitalize()
    return sorted(shown, key=lambda c: (c["due_at"] is None, c["due_at"] or timezone.now()))


def _event(event: TimelineEvent, by_id: dict, session: RelaySession) -> dict:
    if event.actor == ActorKind.AGENT and event.actor_user is not None:
        who = f"Agent · {event.actor_user.get_username()}"
    elif event.actor in (ActorKind.CUSTOMER, ActorKind.PARTNER):
        writer = next((p for p in by_id.values() if p.contact_id == event.actor_contact_id), None)
        who = alias(writer, session)
    else:
        who = event.get_actor_display()
    return {"at": event.created_at, "kind": event.kind, "who": who, "what": event_what(event, {})}


def _agents(session: RelaySession) -> list:
    agents = Agent.objects.select_related("user").order_by("user__username")
    if session.team_id:
        agents = agents.filter(teams=session.team_id)
    return [agent.user for agent in agents]
