"""A booking's full record, for compliance: every message (as it was passed on: a redaction
shows as its marker, never what it hid), every command, routing decision, SLA event,
handover step and delivery status, in order, saying who (by role and alias) did what. Read
from the session timeline of every session of the booking. Real numbers appear only when the
reader may see them."""

from relay.choices import ActorKind, Direction, EventKind, Role
from relay.exceptions import NotFound
from relay.models import Message, RelaySession, TimelineEvent
from relay.privacy import redact

# What of the timeline a transcript leaves out: bookkeeping, not something that happened.
LEFT_OUT = {EventKind.PARTICIPANT_BOUND, EventKind.MESSAGE_STATUS_OTHER}
DELIVERY = {
    EventKind.MESSAGE_SENT: "sent",
    EventKind.MESSAGE_DELIVERED: "delivered",
    EventKind.MESSAGE_READ: "read",
    EventKind.MESSAGE_FAILED: "failed",
}
COLUMNS = ("at", "session_id", "kind", "who", "what")


def transcript_of(external_ref: str, *, numbers_shown: bool) -> dict:
    sessions = list(
        RelaySession.objects.filter(external_ref=external_ref)
        .prefetch_related("participants__contact")
        .order_by("created_at", "pk")
    )
    if not sessions:
        raise NotFound(f"no booking '{external_ref}'")
    aliases = {}
    for session in sessions:
        for participant in session.participants.all():
            aliases[participant.contact_id, session.pk] = _alias(participant, session)
    events = (
        TimelineEvent.objects.filter(session__in=sessions)
        .exclude(kind__in=LEFT_OUT)
        .select_related("message__participant", "actor_user")
        .order_by("pk")
    )
    passed_on = _as_passed_on(sessions)
    return {
        "external_ref": external_ref,
        "sessions": [_session(session, numbers_shown) for session in sessions],
        "entries": [_entry(event, aliases, passed_on) for event in events],
    }


def transcript_rows(transcript: dict) -> list[dict]:
    return [{column: entry[column] for column in COLUMNS} for entry in transcript["entries"]]


def _session(session: RelaySession, numbers_shown: bool) -> dict:
    return {
        "id": session.pk,
        "workflow": session.workflow,
        "opened_at": session.created_at,
        "closed_at": session.closed_at,
        "booking_status": session.booking_status,
        "participants": [
            {
                "role": p.role,
                "alias": _alias(p, session),
                "number": p.contact.phone if numbers_shown else p.contact.masked_identity,
                "moved_off_at": p.rerouted_at,
            }
            for p in session.participants.all()
        ],
    }


def _alias(participant, session: RelaySession) -> str:
    role = "Customer" if participant.role == Role.CUSTOMER else "Partner"
    return f"{role} · {participant.name or session.external_ref}"


def _as_passed_on(sessions: list[RelaySession]) -> dict[int, str]:
    """Each inbound message's text as it went out (the privacy guard's copy)."""
    copies = Message.objects.filter(
        source__participant__session__in=sessions, direction=Direction.OUTBOUND
    ).values_list("source_id", "body")
    return dict(copies)


def _entry(event: TimelineEvent, aliases: dict, passed_on: dict) -> dict:
    return {
        "at": event.created_at,
        "session_id": event.session_id,
        "kind": event.kind,
        "who": _who(event, aliases),
        "what": event_what(event, passed_on),
    }


def _who(event: TimelineEvent, aliases: dict) -> str:
    if event.actor in (ActorKind.CUSTOMER, ActorKind.PARTNER):
        return aliases.get((event.actor_contact_id, event.session_id), event.get_actor_display())
    if event.actor == ActorKind.AGENT and event.actor_user is not None:
        return f"Agent · {event.actor_user.get_username()}"
    return event.get_actor_display()


def event_what(event: TimelineEvent, passed_on: dict) -> str:
    message, detail = event.message, event.detail
    if event.kind == EventKind.MESSAGE_RECEIVED and message is not None:
        # As passed on; one never passed on (held, rejected) as the guard would have it.
        return passed_on.get(message.pk) or redact(message.body).text or f"({message.type})"
    if event.kind in DELIVERY and message is not None:
        to = message.participant.role if message.participant else "someone"
        reason = f": {message.error_message}" if event.kind == EventKind.MESSAGE_FAILED else ""
        return f"{DELIVERY[event.kind]} to the {to}{reason}"
    if event.kind == EventKind.MESSAGE_REDACTED:
        return f"contact details hidden ({detail.get('leak', '')} × {detail.get('count', 1)})"
    if event.kind == EventKind.COMMAND_RUN:
        return f"/{detail.get('command', '')}"
    if event.kind == EventKind.BOOKING_STATUS_CHANGED:
        return f"booking {detail.get('from') or '-'} → {detail.get('to')}"
    label = event.get_kind_display()
    facts = ", ".join(
        f"{key} {value}" for key, value in detail.items() if key in SHOWN_DETAIL and value != ""
    )
    return f"{label} ({facts})" if facts else label


SHOWN_DETAIL = ("clock", "breached_by", "breached_by_key", "to", "reason", "rules", "starts_at")
