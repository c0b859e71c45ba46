"""One service runs slash commands, whether they come from WhatsApp, the API or the inbox: it
finds the command by name or alias (any case), checks who may use it where, reads its
arguments and runs its action, all or nothing. A refusal changes nothing and says what is
wrong and how to write it."""

import re
from dataclasses import dataclass

from django.db import transaction

from relay.choices import CommandAction, CommandUser, EventKind, TextKey
from relay.commands.actions import ACTIONS
from relay.commands.arguments import KINDS, ArgumentError, arguments_read
from relay.exceptions import RelayError
from relay.models import Command, RelaySession
from relay.timeline import Actor, timeline_record

# "/confirmbooking BK-1042": a slash, then a name; "/ not sure" names no command.
COMMAND = re.compile(r"^/(?P<name>[A-Za-z][\w-]*)(?:\s+(?P<rest>.*))?$", re.DOTALL)


@dataclass(frozen=True)
class CommandOutcome:
    ok: bool
    reply: str  # for the API and the inbox, in English
    command: Command | None = None
    name: str = ""
    problem: str = ""  # what kind of refusal: unknown, not_allowed, wrong


def command_named(text: str) -> tuple[str, str] | None:
    """(name, what follows it) when `text` is written as a command; None otherwise."""
    match = COMMAND.match(text.strip())
    if match is None:
        return None
    return match["name"].lower(), (match["rest"] or "").strip()


def command_find(name: str) -> Command | None:
    name = name.lower()
    for command in Command.objects.filter(active=True):
        if command.name.lower() == name or name in [a.lower() for a in command.aliases]:
            return command
    return None


def command_run(*, session: RelaySession, text: str, user: str, actor: Actor) -> CommandOutcome:
    """Run `text` in `session` for `user` (agent, partner or customer)."""
    named = command_named(text)
    if named is None:
        return CommandOutcome(False, "a command starts with / and its name, e.g. /close")
    name, rest = named
    command = command_find(name)
    if command is None:
        usable = ", ".join(f"/{c.name}" for c in commands_usable(session, user)) or "none"
        return CommandOutcome(
            False, f"there is no command /{name}; here you can use: {usable}", None, name, "unknown"
        )
    if not _usable(command, session, user):
        reply = f"/{command.name} cannot be used here by {CommandUser(user).label.lower()}"
        return CommandOutcome(False, reply, command, name, "not_allowed")
    try:
        args = arguments_read(command.arguments, rest)
        with transaction.atomic():
            done = ACTIONS[command.action](session, command, args, actor)
            timeline_record(
                EventKind.COMMAND_RUN,
                session=session,
                actor=actor,
                command=command.name,
                action=command.action,
            )
    except (ArgumentError, RelayError) as exc:
        reply = f"/{command.name} did not run: {exc}. Write it like this: {command.usage}"
        return CommandOutcome(False, reply, command, name, "wrong")
    return CommandOutcome(True, f"done: {done}", command, name)


def commands_usable(session: RelaySession, user: str) -> list[Command]:
    commands = sorted(Command.objects.filter(active=True), key=lambda c: c.name.lower())
    return [command for command in commands if _usable(command, session, user)]


def _usable(command: Command, session: RelaySession, user: str) -> bool:
    """`user` (agent, partner or customer) may use `command` in this session's workflow."""
    return user in command.used_by and (
        not command.workflows or session.workflow in command.workflows
    )


def command_reply(outcome: CommandOutcome, session: RelaySession, user: str) -> tuple:
    """The catalogue text (and its values) that answers the sender of a command on WhatsApp."""
    if outcome.ok:
        return TextKey.COMMAND_DONE, {"name": outcome.command.name, "ref": session.external_ref}
    if outcome.problem == "unknown":
        usable = ", ".join(f"/{c.name}" for c in commands_usable(session, user)) or "-"
        return TextKey.COMMAND_UNKNOWN, {"name": outcome.name, "commands": usable}
    if outcome.problem == "not_allowed":
        return TextKey.COMMAND_NOT_ALLOWED, {"name": outcome.command.name}
    return TextKey.COMMAND_WRONG, {"name": outcome.command.name, "usage": outcome.command.usage}


def command_problems(fields: dict, *, instance: Command | None = None) -> dict[str, str]:
    """What is wrong with a command as an admin wrote it, by field."""
    problems = {}
    kinds = fields.get("arguments") or []
    if not isinstance(kinds, list) or any(
        not isinstance(k, str) or k.removesuffix("?") not in KINDS for k in kinds
    ):
        problems["arguments"] = (
            f'a list of kinds among {", ".join(KINDS)} ("?" after one: optional)'
        )
    users = fields.get("used_by") or []
    if not users or not isinstance(users, list) or not set(users) <= set(CommandUser.values):
        problems["used_by"] = f"a list among {', '.join(CommandUser.values)}"
    aliases = fields.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        problems["aliases"] = 'a list of names, e.g. ["confirm"]'
    else:
        names = {fields.get("name", "").lower(), *(a.lower() for a in aliases)}
        for other in Command.objects.exclude(pk=getattr(instance, "pk", None)):
            taken = {other.name.lower(), *(a.lower() for a in other.aliases)} & names
            if taken:
                problems["aliases"] = f"{', '.join(sorted(taken))} already names /{other.name}"
    action = fields.get("action")
    if action == CommandAction.SET_STATUS and not fields.get("value"):
        problems["value"] = "the status it sets, e.g. confirmed"
    needed = NEEDED_ARGUMENTS.get(action)
    given = {k.removesuffix("?") for k in kinds if isinstance(k, str)}
    required = {k for k in kinds if isinstance(k, str) and not k.endswith("?")}
    if needed and "arguments" not in problems and not needed <= required:
        missing = ", ".join(sorted(needed - required))
        problems["arguments"] = f"this action needs {missing} (not optional)"
    if action == CommandAction.QUOTE:
        problems.update(_lead_time_problem(fields.get("value", ""), given))
    return problems


# What an action cannot run without, among a command's arguments.
NEEDED_ARGUMENTS = {
    CommandAction.QUOTE: {"money"},
    CommandAction.REROUTE: {"partner_code"},
    CommandAction.OFFER_SLOTS: {"text"},
    CommandAction.NOTE: {"text"},
}


def _lead_time_problem(value: str, given: set[str]) -> dict[str, str]:
    """A quote's lead time is written after the price, or fixed by the value (24 hours)."""
    if not value:
        return {} if "duration" in given else {"value": "a lead time (24 hours), or a duration"}
    try:
        arguments_read(["duration"], value)
    except ArgumentError as exc:
        return {"value": f"a lead time, e.g. 24 hours: {exc}"}
    return {}
