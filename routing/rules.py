"""Routing rules, run in order on a new session's first message: a rule whose conditions all
hold applies its actions, and one marked "stop" ends the run. What each matched rule did is
kept as the session's routing decision; a run that places no partner leaves it in triage."""

import logging
import time
from dataclasses import dataclass, field

import regex
from django.db.models import Count, Max

from relay.services.alerts import alert_raise
from routing.actions import ActionError, Placement, action_apply, action_check
from routing.conditions import ConditionError, Sample, condition_check, condition_met
from routing.models import Rule

# The named group whose capture becomes the session's booking reference (PO1234).
REFERENCE_GROUP = "ref"
REFERENCE_LENGTH = 100  # a session's external_ref
RULE_ERRORS = (KeyError, TypeError, AttributeError, ValueError, regex.error)
logger = logging.getLogger(__name__)


@dataclass
class Decision:
    placement: Placement
    steps: list[dict] = field(default_factory=list)  # per matched rule: id, name, did

    @property
    def triage(self) -> bool:
        return self.placement.partner is None


def rules_run(sample: Sample, rules: list[Rule] | None = None) -> Decision:
    """Where `sample` goes. Reads only, so that the admin's preview runs it too."""
    if rules is None:
        rules = active_rules()
    decision = Decision(Placement())
    for rule in rules:
        sample.pending = {}
        try:
            if not all(condition_met(condition, sample) for condition in rule.conditions):
                continue
            sample.captures.update(sample.pending)
            did = [action_apply(action, decision.placement, sample) for action in rule.actions]
        except RULE_ERRORS as exc:  # stored by hand, or written before today's checks
            logger.warning("routing rule %s (#%s) skipped: %s", rule.name, rule.pk, exc)
            alert_raise(
                "routing_rule_broken",
                f"Routing rule '{rule.name}' (#{rule.pk}) was skipped: it cannot run as "
                "saved. Open it in the admin and save it again to see what is wrong.",
            )
            continue
        decision.steps.append({"rule": rule.pk, "name": rule.name, "did": did})
        if rule.stop:
            break
    if not decision.placement.external_ref and sample.captures.get(REFERENCE_GROUP):
        reference = sample.captures[REFERENCE_GROUP].upper()
        decision.placement.external_ref = reference[:REFERENCE_LENGTH]
    return decision


# (when the stamp was read, the stamp, the rules): one tuple, swapped whole, read once.
_loaded: tuple | None = None
STAMP_EVERY_SECONDS = 1.0


def active_rules() -> list[Rule]:
    """The active rules in order, read again only when a rule was added, changed or removed
    (one small query, at most once a second; a change made in this process counts at
    once): building 200 rules from their rows costs more than running them."""
    global _loaded
    loaded = _loaded
    if loaded is not None and time.monotonic() - loaded[0] < STAMP_EVERY_SECONDS:
        return loaded[2]
    stamp = Rule.objects.aggregate(count=Count("id"), last=Max("id"), latest=Max("updated_at"))
    if loaded is None or loaded[1] != stamp:
        rules = list(Rule.objects.filter(active=True).order_by("position", "id"))
    else:
        rules = loaded[2]
    _loaded = (time.monotonic(), stamp, rules)
    return rules


def rules_forget(**kwargs) -> None:
    """A rule was saved or deleted in this process: read them again next time."""
    global _loaded
    _loaded = None


def rule_problems(conditions, actions) -> dict[str, list[str]]:
    """What is wrong with a rule's conditions and actions, by field; empty when nothing."""
    problems: dict[str, list[str]] = {}
    for name, items, check, error in (
        ("conditions", conditions, condition_check, ConditionError),
        ("actions", actions, action_check, ActionError),
    ):
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            problems[name] = [f"{name} must be a list of {{kind, value}} objects"]
            continue
        for index, item in enumerate(items, start=1):
            try:
                check(item)
            except error as exc:
                problems.setdefault(name, []).append(f"{name[:-1]} {index}: {exc}")
    if not problems.get("actions") and not actions:
        problems["actions"] = ["a rule needs at least one action"]
    return problems
