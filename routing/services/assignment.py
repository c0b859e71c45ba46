"""Giving sessions to agents: round robin or least loaded, among a team's available agents
with room under their capacity. The team's agents are locked while one is chosen, so that
two sessions routed at once never overfill an agent."""

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from relay.choices import LIVE_SESSION_STATUSES, EventKind
from relay.models import RelaySession
from relay.timeline import SYSTEM, Actor, timeline_record
from routing.choices import Assignment
from routing.models import Agent, Team


@transaction.atomic
def session_assign(*, session: RelaySession, user, actor: Actor = SYSTEM) -> RelaySession:
    """Give `session` to `user` (None: to nobody), on the timeline."""
    RelaySession.objects.filter(pk=session.pk).update(assignee=user)
    session.assignee = user
    timeline_record(
        EventKind.SESSION_ASSIGNED,
        session=session,
        actor=actor,
        user_id=user.pk if user else None,
        team_id=session.team_id,
    )
    return session


@transaction.atomic
def session_assign_in_team(*, session: RelaySession, team: Team) -> RelaySession:
    """Give `session` to an agent of `team` as the team assigns; unassigned when the team
    assigns by hand or nobody has room (it waits for an agent to claim it)."""
    if team.assignment == Assignment.MANUAL:
        return session
    agent = agent_pick(team, exclude_user_id=None)
    if agent is None:
        return session
    Agent.objects.filter(pk=agent.pk).update(last_assigned_at=timezone.now())
    return session_assign(session=session, user=agent.user)


def agent_pick(team: Team, *, exclude_user_id: int | None) -> Agent | None:
    """The agent of `team` the next session goes to, the team's agents locked until the
    transaction ends; None when no available agent has room."""
    locked = Agent.objects.select_for_update().filter(teams=team).order_by("pk")
    list(locked)  # take the locks first, in one order: concurrent picks queue here
    agents = (
        Agent.objects.filter(teams=team, available=True, user__is_active=True)
        .exclude(user_id=exclude_user_id)
        .annotate(
            load=Count(
                "user__assigned_sessions",
                filter=Q(user__assigned_sessions__status__in=LIVE_SESSION_STATUSES),
            )
        )
        .select_related("user")
    )
    with_room = [agent for agent in agents if agent.load < agent.capacity]
    if not with_room:
        return None
    if team.assignment == Assignment.ROUND_ROBIN:
        # The one given a session longest ago (never, first), whatever their load.
        return min(with_room, key=_longest_waiting)
    return min(with_room, key=lambda agent: (agent.load, agent.pk))


def _longest_waiting(agent: Agent) -> tuple:
    never = agent.last_assigned_at is None
    return (not never, agent.last_assigned_at or timezone.now(), agent.pk)


@transaction.atomic
def agent_sessions_redistribute(*, agent: Agent, actor: Actor = SYSTEM) -> int:
    """The agent is away: their live sessions go to others of the session's team (as it
    assigns), or back to unassigned; how many moved."""
    sessions = RelaySession.objects.select_for_update(of=("self",)).filter(
        assignee=agent.user, status__in=LIVE_SESSION_STATUSES
    )
    moved = 0
    for session in sessions.select_related("team"):
        team = session.team
        manual = team is None or team.assignment == Assignment.MANUAL
        other = None if manual else agent_pick(team, exclude_user_id=agent.user_id)
        if other is not None:
            Agent.objects.filter(pk=other.pk).update(last_assigned_at=timezone.now())
        session_assign(session=session, user=other.user if other else None, actor=actor)
        moved += 1
    return moved
