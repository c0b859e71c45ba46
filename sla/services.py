"""Writing SLA policies: each change of targets is a new version."""

from django.db import transaction

from sla.models import BusinessCalendar, EscalateTo, SlaPolicy, SlaPolicyVersion

VERSIONED = ("targets", "warn_at", "escalate_after", "escalate_to")


@transaction.atomic
def policy_create(
    *,
    name: str,
    workflow: str,
    targets: dict,
    warn_at: float = 0.8,
    escalate_after: int | None = None,
    escalate_to: str = EscalateTo.TEAM_LEAD,
    calendar: BusinessCalendar | None = None,
    partner: str = "",
    team: str = "",
) -> SlaPolicy:
    policy = SlaPolicy.objects.create(
        name=name, workflow=workflow, calendar=calendar, partner=partner, team=team
    )
    SlaPolicyVersion.objects.create(
        policy=policy,
        number=1,
        targets=targets,
        warn_at=warn_at,
        escalate_after=escalate_after,
        escalate_to=escalate_to,
    )
    return policy


@transaction.atomic
def policy_change(policy: SlaPolicy, **changes) -> SlaPolicyVersion:
    """A new version with `changes` (VERSIONED) over the current one."""
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    current = policy.current
    fields = {name: changes.get(name, getattr(current, name)) for name in VERSIONED}
    return SlaPolicyVersion.objects.create(policy=policy, number=current.number + 1, **fields)
