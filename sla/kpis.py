"""KPIs, read from the session timeline. Each is defined once, in KPIS (the README's "KPIs"
says the same in words). A duration gives its median and 90th percentile in seconds, business
seconds where the session's SLA policy counts only business time; a rate gives a fraction from
0 to 1; a count, a number. `n` is how many sessions are behind a figure.

The sessions are those opened in the period; what happened to them is counted up to now. The
database sums each session's timeline in one grouped query (and two small ones); Python only
sees one row per session."""

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Max, Min, Q

from relay.choices import ActorKind, EventKind, Origin, Role
from relay.models import RelaySession, TimelineEvent
from routing.models import Workflow
from routing.services.intake import GENERATED_REF_PREFIX
from sla.business_time import Schedule, business_seconds
from sla.calendars import calendar_schedule
from sla.policies import ALWAYS_OPEN, Policies

GROUP_BY = ("partner", "team", "agent", "workflow")
# A confirmed booking moved to one of these was undone, not carried on.
UNDOING_STATUSES = ("cancelled", "declined")


@dataclass
class Facts:
    """One session, as its timeline tells it."""

    pk: int
    workflow: str
    opened_at: datetime
    linked: bool  # its reference is a known order's or booking's, not one made up
    partner: str | None
    team: str | None
    agent: str | None
    first_customer: datetime | None = None
    first_partner: datetime | None = None
    first_answer: datetime | None = None
    first_routed: datetime | None = None
    routed: int = 0
    success_at: datetime | None = None
    slot_at: datetime | None = None
    no_shows: int = 0
    quotes: int = 0
    quote_sent_at: datetime | None = None
    superseded: int = 0
    followed_up: int = 0
    escalated: int = 0
    redacted: int = 0
    received: int = 0
    met: int = 0
    breached: int = 0
    closed_at: datetime | None = None
    agent_first: datetime | None = None
    agent_last: datetime | None = None
    undone_after_success: bool = False
    messages_to_slot: int | None = None
    breaches_by: dict = field(default_factory=dict)
    schedule: Schedule = ALWAYS_OPEN

    def seconds(self, start: datetime | None, end: datetime | None) -> float | None:
        if start is None or end is None or end < start:
            return None
        return business_seconds(self.schedule, start, end)


@dataclass(frozen=True)
class Kpi:
    name: str
    kind: str  # "duration", "number", "rate", "ratio" or "count"
    label: str
    definition: str
    of: Callable  # Facts → seconds | number | bool | (part, whole) | count; None: not counted


def _answered_first(f: Facts) -> float | None:
    if f.first_answer is None or f.first_customer is None or f.first_answer < f.first_customer:
        return None  # the customer did not write first: nobody kept them waiting
    return f.seconds(f.first_customer, f.first_answer)


def _first_contact(f: Facts) -> bool | None:
    if f.success_at is None:
        return None
    return f.routed <= 1 and not (f.followed_up or f.escalated or f.superseded)


KPIS = [
    Kpi(
        "time_to_confirmation",
        "duration",
        "Time to success",
        "From the session opening to the booking first reaching its workflow's success status "
        "(confirmed, scheduled, resolved, accepted).",
        lambda f: f.seconds(f.opened_at, f.success_at),
    ),
    Kpi(
        "time_to_first_response",
        "duration",
        "Time to first response",
        "From the customer's first message to the first answer they got (relayed from the "
        "partner or written by an agent); sessions where the customer did not write first are "
        "left out.",
        _answered_first,
    ),
    Kpi(
        "time_to_acknowledge",
        "duration",
        "Time to acknowledge",
        "From the session reaching a partner (opened with one, or first routed) to the "
        "partner's first message.",
        lambda f: f.seconds(max(f.opened_at, f.first_routed or f.opened_at), f.first_partner),
    ),
    Kpi(
        "quote_turnaround",
        "duration",
        "Quote turnaround",
        "From the session opening to the first quote sent to the customer.",
        lambda f: f.seconds(f.opened_at, f.quote_sent_at),
    ),
    Kpi(
        "resolution_cycle_time",
        "duration",
        "Resolution cycle time",
        "From the session opening to its closing.",
        lambda f: f.seconds(f.opened_at, f.closed_at),
    ),
    Kpi(
        "agent_handling_time",
        "duration",
        "Agent handling time",
        "From an agent's first action on the session (a message, a command, a note) to their last.",
        lambda f: f.seconds(f.agent_first, f.agent_last),
    ),
    Kpi(
        "messages_to_slot",
        "number",
        "Messages until a slot is confirmed",
        "Messages the two sides wrote before the customer picked an appointment.",
        lambda f: f.messages_to_slot,
    ),
    Kpi(
        "first_contact_resolution",
        "rate",
        "First contact resolution",
        "Of the bookings that reached success: those that did with their first partner, "
        "without a reminder, an escalation or a second quote.",
        _first_contact,
    ),
    Kpi(
        "coordination_error_rate",
        "rate",
        "Coordination errors",
        "Of the bookings that reached success: those changed afterwards (moved to another "
        "partner or time, back to an earlier status, cancelled or declined).",
        lambda f: None if f.success_at is None else f.undone_after_success,
    ),
    Kpi(
        "success_rate",
        "rate",
        "Success rate",
        "Of the sessions opened: those whose booking reached its success status.",
        lambda f: f.success_at is not None,
    ),
    Kpi(
        "scheduling_conversion",
        "rate",
        "Interview scheduling conversion",
        "Of the sessions opened (the matches): those where the customer confirmed a slot.",
        lambda f: f.slot_at is not None,
    ),
    Kpi(
        "no_show_rate",
        "rate",
        "No-show rate",
        "Of the sessions with an appointment or a success: those marked no-show.",
        lambda f: None if f.slot_at is None and f.success_at is None else f.no_shows > 0,
    ),
    Kpi(
        "acceptance_rate",
        "rate",
        "Partner acceptance",
        "Of the sessions given to a partner: those where the partner answered or quoted.",
        lambda f: None if f.partner is None else bool(f.first_partner or f.quotes),
    ),
    Kpi(
        "audit_score",
        "ratio",
        "Communication audit score",
        "Of the messages received: those in a session linked to a known order or booking "
        "(a reference given by the booking system or read from the message, not made up).",
        lambda f: (f.received if f.linked else 0, f.received) if f.received else None,
    ),
    Kpi(
        "sla_compliance",
        "ratio",
        "SLA compliance",
        "Of the SLA clocks that ended or ran out: those met in time.",
        lambda f: (f.met, f.met + f.breached) if f.met + f.breached else None,
    ),
    Kpi(
        "sla_breaches",
        "count",
        "SLA breaches",
        "Clocks that ran past their target.",
        lambda f: f.breached,
    ),
    *(
        Kpi(
            f"breaches_by_{owner}",
            "count",
            f"Breaches let run out by the {owner}",
            f"SLA breaches put on the {owner} (sla.breached's breached_by).",
            lambda f, owner=owner: f.breaches_by.get(owner, 0),
        )
        for owner in ("partner", "agent", "team")
    ),
    Kpi(
        "leakage_attempts",
        "count",
        "Data-leakage attempts",
        "Messages in which the privacy guard hid a phone number, an e-mail address or another "
        "contact detail.",
        lambda f: f.redacted,
    ),
]
BY_NAME = {kpi.name: kpi for kpi in KPIS}


def kpis_period(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The period asked, the last 30 days when absent."""
    end = end or today
    return start or end - timedelta(days=30), end


def session_facts(*, start: date, end: date, workflow: str = "") -> list[Facts]:
    """The facts of each session opened from `start` to `end` (whole days, UTC)."""
    opened_from = datetime.combine(start, time(), UTC)
    sessions = RelaySession.objects.filter(
        created_at__gte=opened_from,
        created_at__lt=datetime.combine(end + timedelta(days=1), time(), UTC),
    )
    if workflow:
        sessions = sessions.filter(workflow=workflow)
    facts = {
        row["pk"]: Facts(
            pk=row["pk"],
            workflow=row["workflow"],
            opened_at=row["created_at"],
            linked=not row["external_ref"].startswith(GENERATED_REF_PREFIX),
            partner=row["partner__code"],
            team=row["team__slug"],
            agent=row["assignee__username"],
        )
        for row in sessions.values(
            "pk",
            "workflow",
            "created_at",
            "external_ref",
            "partner__code",
            "team__slug",
            "assignee__username",
        )
    }
    if not facts:
        return []
    ids = sessions.values("pk")
    # No event of these sessions is older than the period: the created_at index narrows a
    # year of history to it.
    events = TimelineEvent.objects.filter(session__in=ids, created_at__gte=opened_from)
    for row in events.values("session_id").annotate(**_summed()).order_by():
        vars(facts[row.pop("session_id")]).update(row)
    _read_after_success(facts, events)
    _read_messages_to_slot(facts, events)
    _read_schedules(facts, ids)
    return list(facts.values())


def kpis_computed(facts: list[Facts], key: Callable[[Facts], object]) -> dict[object, dict]:
    """Every KPI of each group of `facts` (grouped by `key`), in the API's shape."""
    groups: dict[object, list[Facts]] = defaultdict(list)
    for each in facts:
        groups[key(each)].append(each)
    return {
        name: {kpi.name: kpi_figure(kpi, members) for kpi in KPIS}
        for name, members in groups.items()
    }


def kpi_figure(kpi: Kpi, facts: list[Facts]) -> dict:
    values = [value for value in map(kpi.of, facts) if value is not None]
    n = len(values)
    if kpi.kind in ("duration", "number"):
        values.sort()
        suffix = "_s" if kpi.kind == "duration" else ""
        return {
            f"p50{suffix}": _rounded(_percentile(values, 0.5)),
            f"p90{suffix}": _rounded(_percentile(values, 0.9)),
            "n": n,
        }
    if kpi.kind == "rate":
        return {"value": round(sum(values) / n, 4) if n else None, "n": n}
    if kpi.kind == "ratio":
        part, whole = sum(p for p, _ in values), sum(w for _, w in values)
        return {"value": round(part / whole, 4) if whole else None, "n": n}
    return {"value": sum(values), "n": len(facts)}


def group_key(group_by: str) -> Callable[[Facts], object]:
    return {
        "partner": lambda f: f.partner,
        "team": lambda f: f.team,
        "agent": lambda f: f.agent,
        "workflow": lambda f: f.workflow,
    }[group_by]


def _percentile(values: list[float], share: float) -> float | None:
    """Linear between the two nearest ranks (as spreadsheets' PERCENTILE does)."""
    if not values:
        return None
    position = (len(values) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _summed() -> dict:
    """Per session: the first time or the number of each kind of event a KPI reads."""

    def first(kind, **more):
        return Min("created_at", filter=Q(kind=kind, **more))

    def count(kind, **more):
        return Count("pk", filter=Q(kind=kind, **more))

    successes = Q()
    for slug, status in Workflow.objects.exclude(success_status="").values_list(
        "slug", "success_status"
    ):
        successes |= Q(session__workflow=slug, detail__to=status)
    answers = Q(
        kind=EventKind.MESSAGE_QUEUED,
        detail__origin__in=[Origin.RELAYED, Origin.API],
        message__participant__role=Role.CUSTOMER,
    )
    summed = {
        "first_customer": first(EventKind.MESSAGE_RECEIVED, actor=ActorKind.CUSTOMER),
        "first_partner": first(EventKind.MESSAGE_RECEIVED, actor=ActorKind.PARTNER),
        "first_answer": Min("created_at", filter=answers),
        "first_routed": first(EventKind.SESSION_ROUTED),
        "routed": count(EventKind.SESSION_ROUTED),
        "slot_at": first(EventKind.SLOT_CONFIRMED),
        "no_shows": count(EventKind.BOOKING_NO_SHOW),
        "quotes": count(EventKind.QUOTE_RECEIVED),
        "quote_sent_at": first(EventKind.QUOTE_SENT),
        "superseded": count(EventKind.QUOTE_SUPERSEDED),
        "followed_up": count(EventKind.SESSION_FOLLOWED_UP),
        "escalated": count(EventKind.SLA_ESCALATED),
        "redacted": count(EventKind.MESSAGE_REDACTED),
        "received": count(EventKind.MESSAGE_RECEIVED),
        "met": count(EventKind.SLA_MET),
        "breached": count(EventKind.SLA_BREACHED),
        "closed_at": first(EventKind.SESSION_CLOSED),
        "agent_first": Min("created_at", filter=Q(actor=ActorKind.AGENT)),
        "agent_last": Max("created_at", filter=Q(actor=ActorKind.AGENT)),
    }
    if successes:  # else no workflow says what success is: none is counted
        summed["success_at"] = Min(
            "created_at", filter=Q(kind=EventKind.BOOKING_STATUS_CHANGED) & successes
        )
    return summed


def _read_after_success(facts: dict[int, Facts], events) -> None:
    """What undid a success, and who let each breach run out (few events: read in Python)."""
    orders = {slug: statuses for slug, statuses in Workflow.objects.values_list("slug", "statuses")}
    later = events.filter(
        kind__in=[
            EventKind.BOOKING_STATUS_CHANGED,
            EventKind.SESSION_ROUTED,
            EventKind.SLOT_RESCHEDULED,
            EventKind.SLA_BREACHED,
        ]
    ).values_list("session_id", "kind", "created_at", "detail")
    for session_id, kind, at, detail in later.order_by("pk"):
        each = facts[session_id]
        if kind == EventKind.SLA_BREACHED:
            owner = detail.get("breached_by")
            if owner:
                each.breaches_by[owner] = each.breaches_by.get(owner, 0) + 1
        elif each.success_at is not None and at > each.success_at:
            each.undone_after_success |= _undoes(kind, detail, orders.get(each.workflow, []))


def _undoes(kind: str, detail: dict, statuses: list[str]) -> bool:
    if kind != EventKind.BOOKING_STATUS_CHANGED:
        return True  # another partner, another time
    to, before = detail.get("to"), detail.get("from")
    if to in UNDOING_STATUSES:
        return True
    return to in statuses and before in statuses and statuses.index(to) < statuses.index(before)


def _read_messages_to_slot(facts: dict[int, Facts], events) -> None:
    slotted = {pk: each for pk, each in facts.items() if each.slot_at is not None}
    if not slotted:
        return
    received = events.filter(
        kind=EventKind.MESSAGE_RECEIVED,
        session__in=events.filter(kind=EventKind.SLOT_CONFIRMED).values("session_id"),
    ).values_list("session_id", "created_at")
    for each in slotted.values():
        each.messages_to_slot = 0
    for session_id, at in received:
        if at < slotted[session_id].slot_at:
            slotted[session_id].messages_to_slot += 1


def _read_schedules(facts: dict[int, Facts], ids) -> None:
    """Each session counts in its policy's business time (always open without a calendar)."""
    policies = Policies(ids)
    if not any(policy.calendar_id for policy in policies.active):
        return
    years = range(min(f.opened_at.year for f in facts.values()), datetime.now(UTC).year + 1)
    schedules: dict[int, Schedule] = {}
    for each in facts.values():
        version = policies.version_fitting(
            each.pk, each.workflow, each.partner or "", each.team or ""
        )
        calendar = version.policy.calendar if version else None
        if calendar is not None:
            if calendar.pk not in schedules:
                schedules[calendar.pk] = calendar_schedule(calendar, years=years)
            each.schedule = schedules[calendar.pk]


def kpis_report(*, start: date, end: date, workflow: str = "", group_by: str = "workflow") -> dict:
    """The API's answer: {"from", "to", "groups": [{"key", "kpis"}]}, groups by key."""
    by_group = kpis_computed(
        session_facts(start=start, end=end, workflow=workflow), group_key(group_by)
    )
    groups = [
        {"key": key, "kpis": figures}
        for key, figures in sorted(
            by_group.items(), key=lambda item: (item[0] is None, str(item[0]))
        )
    ]
    return {"from": start.isoformat(), "to": end.isoformat(), "groups": groups}


def kpis_rows(report: dict) -> list[dict]:
    """The report as rows, one per group and figure (the CSV's)."""
    return [
        {
            "group": group["key"] if group["key"] is not None else "",
            "kpi": name,
            "p50_s": figure.get("p50_s", figure.get("p50", "")),
            "p90_s": figure.get("p90_s", figure.get("p90", "")),
            "value": figure.get("value", ""),
            "n": figure["n"],
        }
        for group in report["groups"]
        for name, figure in group["kpis"].items()
    ]
