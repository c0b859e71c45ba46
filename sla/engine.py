"""Running the clocks. They follow the session timeline from a cursor, off the relay's hot
path: each batch of events starts and stops clocks and moves the cursor in one transaction,
so an event is applied once whoever runs it and nothing is lost to a crash. A scan then finds
the clocks that crossed their warning or due time, in the database, a few at a time."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from relay.choices import ActorKind, EventKind
from relay.models import RelaySession, TimelineEvent
from relay.timeline import timeline_record
from sla.alerts import supervisors_tell
from sla.breaches import breach_escalate, breach_follow_up, breach_owner
from sla.business_time import Schedule, business_deadline, business_seconds
from sla.clocks import ENDING, RESPONSE, clock_effects
from sla.models import ClockState, SlaClock, SlaPolicyVersion, TimelineCursor
from sla.policies import Policies

# Events are read once they are this old: one that commits late, with a lower id than one
# read already, is not passed over.
SETTLED_AFTER = timedelta(seconds=10)
BATCH = 2000
SCAN_BATCH = 500  # clocks recorded per transaction: a backlog holds few locks at a time


def clocks_follow_timeline(*, now=None, batch: int = BATCH) -> int:
    """Apply the timeline events not applied yet; returns how many were read."""
    now = now or timezone.now()
    TimelineCursor.objects.get_or_create(pk=1)  # made by a migration; again after a flush
    with transaction.atomic():
        cursor = TimelineCursor.objects.select_for_update().get(pk=1)
        events = list(
            TimelineEvent.objects.filter(
                pk__gt=cursor.last_event_id,
                session__isnull=False,
                created_at__lte=now - SETTLED_AFTER,
            )
            .select_related("session__partner", "session__team", "message__participant")
            .order_by("pk")[:batch]
        )
        policies = Policies({event.session_id for event in events})
        for event in events:
            session = event.session
            if event.kind == EventKind.SESSION_ROUTED and event.detail.get("sla_policy"):
                policies.choose(session, event.detail["sla_policy"])
            version = policies.version_for(session)
            if version is not None:
                _apply(event, session, version, policies)
        if events:
            TimelineCursor.objects.filter(pk=1).update(last_event_id=events[-1].pk)
    return len(events)


def clocks_scan(*, now=None) -> tuple[int, int, int]:
    """Record each warning and breach once, warnings first (a clock that crossed both since
    the last scan gets both, in order), then escalate breaches left open; returns (warned,
    breached, escalated)."""
    now = now or timezone.now()
    warned = _crossed(
        SlaClock.objects.filter(warned_at__isnull=True, warns_at__lte=now), "warns_at", _warn
    )
    # Only once its warning is recorded (by this scan or another): a warning comes first.
    breached = _crossed(
        SlaClock.objects.filter(breached_at__isnull=True, due_at__lte=now).filter(
            Q(warned_at__isnull=False) | Q(warns_at__isnull=True)
        ),
        "due_at",
        _breach,
    )
    escalated = _crossed(
        SlaClock.objects.filter(escalated_at__isnull=True, escalates_at__lte=now),
        "escalates_at",
        breach_escalate,
    )
    return warned, breached, escalated


def _crossed(due, deadline: str, record) -> int:
    """Record the clocks of `due`, a batch per transaction, by the time they crossed. The
    clocks are locked first, by id alone and in the order of their partial index (a plan the
    database keeps with a million clocks); rows another scan is recording are skipped."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                due.filter(stopped_at__isnull=True)
                .order_by(deadline)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:SCAN_BATCH]
            )
            clocks = (
                SlaClock.objects.filter(pk__in=ids)
                .select_related("session__partner", "session__team", "session__assignee")
                .select_related("version")
                .order_by(deadline, "pk")
            )
            for clock in clocks:
                record(clock)
        done += len(ids)
        if len(ids) < SCAN_BATCH:
            return done


def _warn(clock: SlaClock) -> None:
    clock.warned_at, clock.state = clock.warns_at, ClockState.WARNED
    clock.save(update_fields=["warned_at", "state"])
    timeline_record(
        EventKind.SLA_WARNING, session=clock.session, clock=clock.clock, clock_id=clock.pk
    )
    supervisors_tell(clock, EventKind.SLA_WARNING)


def _breach(clock: SlaClock) -> None:
    clock.breached_at, clock.state = clock.due_at, ClockState.BREACHED
    clock.breached_by, clock.breached_by_key = breach_owner(clock)
    if clock.version.escalate_after:
        clock.escalates_at = clock.due_at + timedelta(seconds=clock.version.escalate_after)
    clock.save(
        update_fields=["breached_at", "state", "breached_by", "breached_by_key", "escalates_at"]
    )
    timeline_record(
        EventKind.SLA_BREACHED,
        session=clock.session,
        clock=clock.clock,
        clock_id=clock.pk,
        breached_by=clock.breached_by,
        breached_by_key=clock.breached_by_key,
    )
    supervisors_tell(clock, EventKind.SLA_BREACHED)
    breach_follow_up(clock)


def _apply(
    event: TimelineEvent, session: RelaySession, version: SlaPolicyVersion, policies: Policies
) -> None:
    at = event.created_at
    running = SlaClock.objects.filter(session=session, stopped_at__isnull=True)
    if event.kind in ENDING:
        running.update(stopped_at=at)
        return
    if event.kind in (EventKind.SESSION_ROUTED, EventKind.SESSION_ASSIGNED):
        _rematch(running.exclude(version__policy=version.policy_id), version, at, policies)
    starts, stops = clock_effects(event)
    if event.kind == EventKind.BOOKING_STATUS_CHANGED and _waits_on_customer(session, event):
        _pause(
            running.filter(paused_at__isnull=True).exclude(clock__in=stops), version, at, policies
        )
    if event.kind == EventKind.MESSAGE_RECEIVED and event.actor == ActorKind.CUSTOMER:
        _resume(running.filter(paused_at__isnull=False), version, at, policies)
    for clock in running.filter(clock__in=stops):
        clock.stopped_at = at
        if clock.state != ClockState.BREACHED:
            clock.state = ClockState.MET
            timeline_record(EventKind.SLA_MET, session=session, clock=clock.clock)
        clock.save(update_fields=["stopped_at", "state"])
    for name in starts:
        if name == RESPONSE:
            had_first = SlaClock.objects.filter(session=session, clock="first_response").exists()
            name = "next_response" if had_first else "first_response"
        target = version.targets.get(name)
        if target is None or running.filter(clock=name).exists():
            continue
        if name == "partner_ack" and session.partner_id is None:
            continue  # in triage: nobody owes an acknowledgment yet
        schedule = policies.schedule(version, at)
        SlaClock.objects.create(
            session=session,
            clock=name,
            version=version,
            started_at=at,
            warns_at=business_deadline(schedule, at, target * version.warn_at),
            due_at=business_deadline(schedule, at, target),
        )
        timeline_record(EventKind.SLA_STARTED, session=session, clock=name, version=version.pk)


def _rematch(clocks, version: SlaPolicyVersion, at, policies: Policies) -> None:
    """Another partner or team fits another policy: each running clock it has a target for
    moves to it, keeping the business time it has run (a breached one stays as it is)."""
    schedule = policies.schedule(version, at)
    for clock in clocks.filter(breached_at__isnull=True).select_related("version__policy"):
        target = version.targets.get(clock.clock)
        if target is None:
            continue
        old = clock.version
        left = (
            clock.left_to_due
            if clock.paused_at
            else _left(policies.schedule(old, at), at, clock.due_at, None)
        )
        if left is None:
            continue  # its calendar never opens: nothing has run
        elapsed = max(0.0, old.targets[clock.clock] - left)
        to_warn = None if clock.warned_at else max(0.0, target * version.warn_at - elapsed)
        to_due = max(0.0, target - elapsed)
        if clock.paused_at:
            clock.left_to_warn, clock.left_to_due = to_warn, to_due
        else:
            if to_warn is not None:
                clock.warns_at = business_deadline(schedule, at, to_warn)
            clock.due_at = business_deadline(schedule, at, to_due)
        clock.version = version
        clock.save()
        timeline_record(
            EventKind.SLA_REMATCHED,
            session=clock.session,
            clock=clock.clock,
            version=version.pk,
            from_version=old.pk,
            elapsed_s=round(elapsed),
        )


def _waits_on_customer(session: RelaySession, event: TimelineEvent) -> bool:
    from routing.models import Workflow  # the workflow says which statuses wait on them

    waiting = Workflow.objects.filter(slug=session.workflow).values_list(
        "waiting_statuses", flat=True
    )
    return event.detail.get("to") in (waiting.first() or [])


def _pause(clocks, version: SlaPolicyVersion, at, policies: Policies) -> None:
    """Keep what is left of each clock, in business time; no due time while paused."""
    schedule = policies.schedule(version, at)
    for clock in clocks:
        clock.left_to_warn = _left(schedule, at, clock.warns_at, clock.warned_at)
        clock.left_to_due = _left(schedule, at, clock.due_at, clock.breached_at)
        clock.paused_at, clock.warns_at, clock.due_at = at, None, None
        clock.state = ClockState.PAUSED
        clock.save()
        timeline_record(EventKind.SLA_PAUSED, session=clock.session, clock=clock.clock)


def _resume(clocks, version: SlaPolicyVersion, at, policies: Policies) -> None:
    """The customer wrote: each paused clock runs on with what it had left."""
    schedule = policies.schedule(version, at)
    for clock in clocks:
        if clock.left_to_warn is not None:
            clock.warns_at = business_deadline(schedule, at, clock.left_to_warn)
        if clock.left_to_due is not None:
            clock.due_at = business_deadline(schedule, at, clock.left_to_due)
        clock.state = ClockState.WARNED if clock.warned_at else ClockState.RUNNING
        clock.paused_at = clock.left_to_warn = clock.left_to_due = None
        clock.save()
        timeline_record(EventKind.SLA_RESUMED, session=clock.session, clock=clock.clock)


def _left(schedule: Schedule, at, deadline, crossed_at) -> float | None:
    """Business seconds from `at` to `deadline`; None when it was crossed already."""
    if deadline is None or crossed_at is not None:
        return None
    return business_seconds(schedule, at, deadline)
