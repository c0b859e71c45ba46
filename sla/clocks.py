"""The clocks a session runs, and the one place that says which timeline events start and
stop each (the README's "SLA clocks" says the same in words)."""

from relay.choices import ActorKind, EventKind, Origin, Role

CUSTOMER_CLOCKS = ("first_response", "next_response", "confirmation")
PARTNER_CLOCKS = ("partner_ack", "partner_response", "quote")
CLOCKS = CUSTOMER_CLOCKS + PARTNER_CLOCKS
RESPONSE = "response"  # first_response the first time, next_response after


def clock_effects(event) -> tuple[list[str], list[str]]:
    """(clocks `event` starts, clocks it stops); RESPONSE stands for the response clock due."""
    kind = event.kind
    if kind == EventKind.SESSION_OPENED:
        return ["confirmation", "partner_ack", "quote"], []
    if kind == EventKind.SESSION_ROUTED:  # a partner found, or another one: it owes an answer
        return ["partner_ack"], []
    if kind == EventKind.MESSAGE_RECEIVED and event.actor == ActorKind.CUSTOMER:
        return [RESPONSE, "partner_response"], []
    if kind == EventKind.MESSAGE_RECEIVED and event.actor == ActorKind.PARTNER:
        return [], ["partner_ack", "partner_response"]
    if kind == EventKind.MESSAGE_QUEUED and _answers_customer(event):
        return [], ["first_response", "next_response"]
    if kind == EventKind.BOOKING_STATUS_CHANGED:
        return [], ["confirmation"]
    if kind == EventKind.QUOTE_RECEIVED:
        return [], ["quote"]
    return [], []


ENDING = (EventKind.SESSION_CLOSED, EventKind.SESSION_EXPIRED)  # every clock stops, unmet


def _answers_customer(event) -> bool:
    """A partner's message relayed to the customer, or an agent's written to them."""
    message = event.message
    if message is None or message.participant is None or message.participant.role != Role.CUSTOMER:
        return False
    return event.detail.get("origin") in (Origin.RELAYED, Origin.API)


def targets_problem(targets) -> str | None:
    """What is wrong with a policy's targets (clock name → whole seconds); None if nothing."""
    if not isinstance(targets, dict) or not targets:
        return f"give at least one target, in seconds, among {', '.join(CLOCKS)}"
    for clock, seconds in targets.items():
        if clock not in CLOCKS:
            return f"'{clock}' is not a clock; the clocks: {', '.join(CLOCKS)}"
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            return f"the target of {clock} must be a whole number of seconds, at least 1"
    return None
