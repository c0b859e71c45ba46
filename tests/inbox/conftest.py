import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from routing.models import Agent, Team
from tests.relay.conftest import (  # noqa: F401 (fixtures the inbox tests share)
    open_session,
    partner,
    pool,
    post_webhook,
)


def agent_user(username: str, *teams: Team, supervisor: bool = False):
    user = get_user_model().objects.create_user(username=username, password="pw")
    agent = Agent.objects.create(user=user, supervisor=supervisor)
    agent.teams.add(*teams)
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk(db) -> Team:
    return Team.objects.create(slug="desk", name="Desk")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(slug="north", name="North desk")


@pytest.fixture
def alice(desk):
    return agent_user("alice", desk)


@pytest.fixture
def bob(desk):
    return agent_user("bob", desk)


@pytest.fixture
def carol(other_team):
    return agent_user("carol", other_team)


@pytest.fixture
def desk_session(open_session, desk):  # noqa: F811 (the fixture imported above)
    """A live booking of the desk team whose two sides can be written to."""
    from tests.relay.conftest import open_windows

    session = open_session("BK-1042", team=desk)
    open_windows(session)
    return session
