"""Who sees which sessions in the inbox: an agent those of their teams (and any assigned to
them), a supervisor every team's. A session out of sight answers 404, never 403, so that a
guessed id tells nothing."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from relay.models import RelaySession
from routing.models import Agent


def agent_of(user) -> Agent | None:
    return Agent.objects.filter(user=user).prefetch_related("teams").first()


def sees_every_team(user, agent: Agent | None) -> bool:
    return user.is_superuser or bool(agent and agent.supervisor)


def sessions_visible(user, agent: Agent | None = None) -> QuerySet[RelaySession]:
    agent = agent if agent is not None else agent_of(user)
    if sees_every_team(user, agent):
        return RelaySession.objects.all()
    if agent is None:
        return RelaySession.objects.none()
    team_ids = [team.pk for team in agent.teams.all()]
    return RelaySession.objects.filter(Q(team_id__in=team_ids) | Q(assignee=user))


def session_visible(user, pk: int, agent: Agent | None = None) -> RelaySession:
    session = sessions_visible(user, agent).select_related("partner", "team", "assignee", "pool")
    found = session.filter(pk=pk).first()
    if found is None:
        raise Http404("No such session in your inbox.")
    return found


def inbox_view(view):
    """Login required; the request carries the user's agent (read once), and the view gets
    the session (404 when out of sight) when its URL names one."""

    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs):
        request.agent = agent_of(request.user)
        if "session_id" in kwargs:
            kwargs["session"] = session_visible(
                request.user, kwargs.pop("session_id"), request.agent
            )
        return view(request, *args, **kwargs)

    return checked
