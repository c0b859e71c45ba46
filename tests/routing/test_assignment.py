"""Assignment: least loaded and round robin among a team's available agents within their
capacity, safe when two sessions are routed at once; redistribution when an agent leaves."""

import pytest
from django.core.management import call_command

from relay.choices import EventKind
from relay.models import RelaySession
from routing.choices import Assignment
from routing.models import Agent, Team
from routing.services.assignment import agent_sessions_redistribute, session_assign_in_team
from tests.conftest import at_the_same_instant, skip_unless_postgresql
from tests.relay.conftest import CUSTOMER


@pytest.fixture
def team(db):
    return Team.objects.create(slug="desk", name="Desk")


@pytest.fixture
def agents(team, django_user_model):
    made = []
    for name in ("ana", "ben", "cy"):
        agent = Agent.objects.create(user=django_user_model.objects.create_user(name), capacity=2)
        agent.teams.add(team)
        made.append(agent)
    return made


@pytest.fixture
def new_session(open_session):
    numbers = iter(range(100, 200))

    def make(**kwargs):
        return open_session(ref=f"BK-{next(numbers)}", customer=f"+1415555{next(numbers):04d}")

    return make


def assignee(session) -> str | None:
    session.refresh_from_db()
    return session.assignee.username if session.assignee else None


def test_least_loaded_gives_each_session_to_the_agent_with_fewest_open_ones(
    team, agents, new_session
):
    agents[0].user.assigned_sessions.add(new_session(), new_session())  # ana is full
    agents[1].user.assigned_sessions.add(new_session())

    first, second = new_session(), new_session()
    session_assign_in_team(session=first, team=team)
    session_assign_in_team(session=second, team=team)

    assert (assignee(first), assignee(second)) == ("cy", "ben")
    assert first.timeline.filter(kind=EventKind.SESSION_ASSIGNED).exists()


def test_round_robin_takes_available_agents_in_turn(team, agents, new_session):
    team.assignment = Assignment.ROUND_ROBIN
    team.save()
    Agent.objects.filter(user__username="ben").update(available=False)

    turns = []
    for _ in range(4):
        session = new_session()
        session_assign_in_team(session=session, team=team)
        turns.append(assignee(session))

    assert turns == ["ana", "cy", "ana", "cy"]


def test_nobody_with_room_leaves_the_session_unassigned(team, agents, new_session):
    Agent.objects.update(capacity=0)
    session = new_session()

    session_assign_in_team(session=session, team=team)

    assert assignee(session) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("strategy", [Assignment.LEAST_LOADED, Assignment.ROUND_ROBIN])
def test_two_sessions_routed_at_once_never_overfill_an_agent(
    team, django_user_model, new_session, strategy
):
    skip_unless_postgresql()
    Team.objects.filter(pk=team.pk).update(assignment=strategy)
    team.refresh_from_db()
    agent = Agent.objects.create(user=django_user_model.objects.create_user("solo"), capacity=1)
    agent.teams.add(team)
    first, second = new_session(), new_session()

    at_the_same_instant(
        lambda: session_assign_in_team(session=first, team=team),
        lambda: session_assign_in_team(session=second, team=team),
    )

    assert RelaySession.objects.filter(assignee=agent.user).count() == 1


def test_an_agent_who_leaves_has_their_sessions_given_to_others_in_one_action(
    team, agents, new_session
):
    ana = agents[0]
    mine = [new_session(), new_session()]
    for session in mine:
        RelaySession.objects.filter(pk=session.pk).update(team=team, assignee=ana.user)
    Agent.objects.filter(pk=ana.pk).update(available=False)

    moved = agent_sessions_redistribute(agent=ana)

    assert moved == 2
    assert sorted(assignee(session) for session in mine) == ["ben", "cy"]


def test_a_session_opened_with_a_team_is_assigned_as_the_team_assigns(api, pool, partner, agents):
    answer = api.post(
        "/api/v1/sessions/",
        {
            "external_ref": "BK-9",
            "customer": {"name": "Sam", "phone": CUSTOMER},
            "partner": "loc-a",
            "team": "desk",
        },
        format="json",
    ).json()

    assert (answer["team"], answer["assignee"]) == ("desk", "ana")


def test_create_agent_makes_a_user_in_a_team_and_the_api_lists_it(api, monkeypatch, capsys):
    monkeypatch.setenv("AGENT_PASSWORD", "s3cret-pass")

    call_command("create_agent", "dana", "--team", "bespoke-desk", "--supervisor")

    agent = Agent.objects.get(user__username="dana")
    assert agent.supervisor and agent.user.check_password("s3cret-pass")
    assert not agent.user.has_perm("relay.view_real_number")
    assert "a new team" in capsys.readouterr().out
    assert api.get("/api/v1/teams/").json() == [
        {
            "slug": "bespoke-desk",
            "name": "Bespoke desk",
            "assignment": "least_loaded",
            "members": ["dana"],
        }
    ]
