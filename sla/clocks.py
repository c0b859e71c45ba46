"""The clocks a session runs, by side: what each measures is the README's "SLA clocks"."""

CUSTOMER_CLOCKS = ("first_response", "next_response", "confirmation")
PARTNER_CLOCKS = ("partner_ack", "partner_response", "quote")
CLOCKS = CUSTOMER_CLOCKS + PARTNER_CLOCKS


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
