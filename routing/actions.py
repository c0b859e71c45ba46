"""What a routing rule's actions do to where a message goes (a Placement), each kind checked
when the rule is saved. Applying one only reads: nothing is stored until routing is done."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from relay.choices import LIVE_SESSION_STATUSES, Priority, SessionMode
from routing.conditions import Sample
from routing.models import Agent, Partner, Team, Workflow
from routing.selectors import reference_partner_id


@dataclass
class Placement:
    """Where routing puts a new session, as its rules decide."""

    partner: Partner | None = None
    contact_role: str = ""
    team: Team | None = None
    agent: object | None = None  # a Django user
    tags: list[str] = field(default_factory=list)
    workflow: str = ""
    mode: str = ""
    priority: str = ""
    external_ref: str = ""
    sla_policy: str = ""


class ActionError(ValueError):
    pass


def action_check(action: dict) -> None:
    """Refuse (ActionError, saying why) an action that could never work as written."""
    kind, value = action.get("kind"), action.get("value")
    if kind not in APPLY:
        raise ActionError(f"unknown action kind '{kind}'; kinds: {', '.join(APPLY)}")
    if not isinstance(value, str) or not value.strip():
        raise ActionError(f"a {kind} action needs a value (text)")
    problem = CHECKS.get(kind, lambda value: None)(value.strip())
    if problem:
        raise ActionError(problem)


def action_apply(action: dict, placement: Placement, sample: Sample) -> str:
    """Apply `action`; what it did, in words (for the decision and the preview)."""
    return APPLY[action["kind"]](action["value"].strip(), placement, sample)


def _set_partner(value: str, placement: Placement, sample: Sample) -> str:
    partner = Partner.objects.filter(code=value, active=True).first()
    if partner is None:
        return f"no active partner '{value}'"
    placement.partner = partner
    return f"partner {partner.code}"


def _partner_by_reference(value: str, placement: Placement, sample: Sample) -> str:
    code = sample.captures.get(value, "")
    if not code:
        return f"no '{value}' was captured"
    partner_id = reference_partner_id(code)
    partner = Partner.objects.filter(pk=partner_id, active=True).first() if partner_id else None
    if partner is None:
        return f"no active partner owns {code.upper()} in the reference table"
    placement.partner = partner
    return f"partner {partner.code}, owner of {code.upper()}"


def _partner_by_specialization(value: str, placement: Placement, sample: Sample) -> str:
    """The active partner with this specialization (or tag) that has the fewest live
    sessions: work spreads over the partners who can do it."""
    fits = Partner.objects.filter(
        Q(specializations__name__iexact=value) | Q(tags__name__iexact=value), active=True
    ).distinct()
    partner = (
        fits.annotate(
            live=Count(
                "sessions",
                filter=Q(sessions__status__in=LIVE_SESSION_STATUSES),
                distinct=True,  # the labels' joins repeat each session
            )
        )
        .order_by("live", "pk")
        .first()
    )
    if partner is None:
        return f"no active partner is known for {value}"
    placement.partner = partner
    return f"partner {partner.code}, for {value}"


def _contact_role(value: str, placement: Placement, sample: Sample) -> str:
    placement.contact_role = value
    return f"{value} contact"


def _assign_team(value: str, placement: Placement, sample: Sample) -> str:
    team = Team.objects.filter(slug=value).first()
    if team is None:
        return f"no team '{value}'"
    placement.team = team
    return f"team {team.slug}"


def _assign_agent(value: str, placement: Placement, sample: Sample) -> str:
    user = get_user_model().objects.filter(username=value, is_active=True).first()
    if user is None:
        return f"no agent '{value}'"
    if Agent.objects.filter(user=user, available=False).exists():
        return f"agent {value} is away"  # the team, if a rule names one, assigns instead
    placement.agent = user
    return f"agent {value}"


def _add_tag(value: str, placement: Placement, sample: Sample) -> str:
    if value not in placement.tags:
        placement.tags.append(value)
    sample.tags.add(value)  # later rules see it
    return f"tag {value}"


def _set_workflow(value: str, placement: Placement, sample: Sample) -> str:
    if not Workflow.objects.filter(slug=value).exists():
        return f"no workflow '{value}'"
    placement.workflow = sample.workflow = value
    return f"workflow {value}"


def _set_mode(value: str, placement: Placement, sample: Sample) -> str:
    placement.mode = value
    return f"{value} mode"


def _set_priority(value: str, placement: Placement, sample: Sample) -> str:
    placement.priority = value
    return f"{value} priority"


def _set_sla_policy(value: str, placement: Placement, sample: Sample) -> str:
    placement.sla_policy = value  # the SLA app reads it from the session.routed event
    return f"SLA policy {value}"


def _policy_exists(name: str) -> str | None:
    from sla.selectors import policy_names  # routing only checks that the name exists

    if name not in policy_names():
        return f"no SLA policy '{name}'; policies: {', '.join(policy_names()) or 'none yet'}"
    return None


def _one_of(choices) -> callable:
    def check(value: str) -> str | None:
        if value not in choices.values:
            return f"'{value}' is not one of {', '.join(choices.values)}"
        return None

    return check


APPLY = {
    "set_partner": _set_partner,
    "partner_by_reference": _partner_by_reference,
    "partner_by_specialization": _partner_by_specialization,
    "contact_role": _contact_role,
    "assign_team": _assign_team,
    "assign_agent": _assign_agent,
    "add_tag": _add_tag,
    "set_workflow": _set_workflow,
    "set_mode": _set_mode,
    "set_priority": _set_priority,
    "set_sla_policy": _set_sla_policy,
}
CHECKS = {
    "set_mode": _one_of(SessionMode),
    "set_priority": _one_of(Priority),
    "set_sla_policy": _policy_exists,
}
