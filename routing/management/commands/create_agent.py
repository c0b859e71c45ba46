"""manage.py create_agent USERNAME --team SLUG [--supervisor] [--email ADDRESS]"""

import getpass
import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from routing.models import Agent, Team


class Command(BaseCommand):
    help = (
        "Make an agent (a Django user in a team; a team not known yet is made). The password "
        "comes from AGENT_PASSWORD when set, else it is asked for. Agents see no real numbers."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--team", required=True, help="The team's slug, e.g. bespoke-desk.")
        parser.add_argument("--supervisor", action="store_true", help="Sees every team.")
        parser.add_argument("--email", default="")

    def handle(self, *args, username: str, team: str, supervisor: bool, email: str, **options):
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            raise CommandError(f"a user named '{username}' exists already")
        password = os.environ.get("AGENT_PASSWORD") or self._ask_password()
        with transaction.atomic():
            group, made = Team.objects.get_or_create(
                slug=team, defaults={"name": team.replace("-", " ").capitalize()}
            )
            user = users.objects.create_user(username=username, email=email, password=password)
            agent = Agent.objects.create(user=user, supervisor=supervisor)
            agent.teams.add(group)
        role = "supervisor" if supervisor else "agent"
        self.stdout.write(
            f"{role} {username} made in team {group.slug}" + (" (a new team)" if made else "")
        )

    def _ask_password(self) -> str:
        if not os.isatty(0):
            raise CommandError("set AGENT_PASSWORD, or run this in a terminal to be asked")
        password = getpass.getpass("Password: ")
        if not password or password != getpass.getpass("Password (again): "):
            raise CommandError("the passwords are blank or differ")
        return password
