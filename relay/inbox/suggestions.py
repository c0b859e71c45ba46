"""Autocomplete of the command box: the commands an agent may use in this session, those
matching what is typed first, each with how to write it and a filled-in start."""

from dataclasses import dataclass

from relay.choices import CommandUser
from relay.commands.service import commands_usable
from relay.models import Command, RelaySession

SHOWN = 8


@dataclass(frozen=True)
class Suggestion:
    name: str
    usage: str
    does: str
    fill: str  # what picking it puts in the box


def command_suggestions(session: RelaySession, typed: str) -> list[Suggestion]:
    word = typed.strip().lstrip("/").split(" ", 1)[0].lower()
    found = []
    for command in commands_usable(session, CommandUser.AGENT):
        names = [command.name.lower(), *(alias.lower() for alias in command.aliases)]
        if word and not any(name.startswith(word) for name in names):
            continue
        found.append(
            Suggestion(command.name, command.usage, _does(command), _fill(command, session))
        )
    # Names that start with what was typed come before those matched by an alias.
    found.sort(key=lambda s: (not s.name.lower().startswith(word), s.name.lower()))
    return found[:SHOWN]


def _does(command: Command) -> str:
    does = command.get_action_display()
    return f"{does}: {command.value}" if command.value else does


def _fill(command: Command, session: RelaySession) -> str:
    kinds = [kind.removesuffix("?") for kind in command.arguments]
    if kinds and kinds[0] == "booking_ref":
        return f"/{command.name} {session.external_ref}"
    return f"/{command.name} " if kinds else f"/{command.name}"
