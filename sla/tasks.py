"""Periodic SLA work, run by django-q2's cluster."""

from sla.engine import clocks_follow_timeline, clocks_scan


def clocks_run() -> None:
    """Every minute: the clocks catch up with the timeline, then warnings and breaches."""
    while clocks_follow_timeline() > 0:
        pass
    clocks_scan()
