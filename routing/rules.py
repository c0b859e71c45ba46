"""Routing rules, run in order on a new session's first message: a rule whose conditions all
hold applies its actions, and one marked "stop" ends the run. What each matched rule did is
kept as the session's routing decision; a run that places no partner leaves it in triage."""

from dataclasses import dataclass, field

from django.db.models import Count, Max

from routing.actions import ActionError, Placement, action_apply, action_check
from routing.conditions import ConditionError, Sample, condition_check, condition_met
from routing.models import Rule

# The named group whose capture becomes the session's booking reference (PO1234).
REFERENCE_GROUP = "ref"


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
        if not all(condition_met(condition, sample) for condition in rule.conditions):
            continue
        did = [action_apply(action, decision.placement, sample) for action in rule.actions]
        decision.steps.append({"rule": rule.pk, "name": rule.name, "did": did})
        if rule.stop:
            break
    if not decision.placement.external_ref and sample.captures.get(REFERENCE_GROUP):
        decision.placement.external_ref = sample.captures[REFERENCE_GROUP].upper()
    return decision


_loaded: dict = {}


def active_rules() -> list[Rule]:
    """The active rules in order, read again only when a rule was added, changed or removed
    (one small query): building 200 rules from their rows costs more than running them."""
    stamp = Rule.objects.aggregate(count=Count("id"), last=Max("id"), latest=Max("updated_at"))
    if _loaded.get("stamp") != stamp:
        rules = list(Rule.objects.filter(active=True).order_by("position", "id"))
        _loaded.update(stamp=stamp, rules=rules)
    return _loaded["rules"]


def rules_forget(**kwargs) -> None:
    """A rule was saved or deleted in this process: read them again next time."""
    _loaded.clear()


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
