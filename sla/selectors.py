"""Reading clocks for the API and, later, the inbox."""

from django.utils import timezone

from sla.models import ClockState, SlaClock, SlaPolicy


def policy_names() -> list[str]:
    return list(SlaPolicy.objects.order_by("name").values_list("name", flat=True))


def clocks_shown(clocks: list[SlaClock], *, now=None) -> list[dict]:
    """Each clock as of `now`: one the scan has not reached yet says already that it warned
    or breached, when its time has passed."""
    now = now or timezone.now()
    shown = []
    for clock in clocks:
        state, warned_at, breached_at = clock.state, clock.warned_at, clock.breached_at
        if clock.stopped_at is None:
            if breached_at is None and clock.due_at and clock.due_at <= now:
                state, breached_at = ClockState.BREACHED, clock.due_at
            if warned_at is None and clock.warns_at and clock.warns_at <= now:
                warned_at = clock.warns_at
                state = state if state == ClockState.BREACHED else ClockState.WARNED
        shown.append(
            {
                "clock": clock.clock,
                "state": state,
                "due_at": clock.due_at,
                "warned_at": warned_at,
                "breached_at": breached_at,
                "stopped_at": clock.stopped_at,
            }
        )
    return shown
