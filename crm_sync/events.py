"""The event catalogue: which timeline kinds CRMs hear of, under which type, with what data.
Every event's data has session_id, external_ref and workflow; none carries a real number or
(except message.relayed to an endpoint allowed to receive it) a message's text."""

from relay.choices import EventKind

# Timeline kind → CRM event type (DESIGN.md's catalogue).
TYPES = {
    EventKind.SESSION_OPENED: "session.opened",
    EventKind.SESSION_ROUTED: "session.routed",
    EventKind.SESSION_ASSIGNED: "session.assigned",
    EventKind.BOOKING_STATUS_CHANGED: "booking.status_changed",
    EventKind.MESSAGE_RELAYED: "message.relayed",
    EventKind.COMMAND_RUN: "command.run",
    EventKind.QUOTE_SENT: "quote.sent",
    EventKind.HANDOVER_COMPLETED: "handover.completed",
    EventKind.SLOT_CONFIRMED: "slot.confirmed",
    EventKind.BOOKING_NO_SHOW: "booking.no_show",
    EventKind.SLA_WARNING: "sla.warning",
    EventKind.SLA_BREACHED: "sla.breached",
    EventKind.SESSION_CLOSED: "session.closed",
    EventKind.SESSION_EXPIRED: "session.closed",
}
EVENT_TYPES = sorted(set(TYPES.values()))
# Timeline details that name people or numbers stay behind; ids and counts go.
KEPT = {
    "from",
    "to",
    "partner_id",
    "from_partner_id",
    "team_id",
    "user_id",
    "command",
    "quote",
    "slot",
    "handover",
    "clock",
    "breached_by",
    "breached_by_key",
    "type",
}


def event_data(event, session) -> dict:
    data = {
        "session_id": session.pk,
        "external_ref": session.external_ref,
        "workflow": session.workflow,
        **{key: value for key, value in event.detail.items() if key in KEPT},
    }
    if event.message_id:
        data["message_id"] = event.message_id
    if event.kind == EventKind.SESSION_CLOSED:
        data["reason"] = session.closed_reason or "closed"
    if event.kind == EventKind.SESSION_EXPIRED:
        data["reason"] = "expired"
    return data
