"""Writing SLA policies: each change of targets is a new version."""

from django.db import transaction

from sla.models import BusinessCalendar, SlaPolicy, SlaPolicyVersion


@transaction.atomic
def policy_create(
    *,
    name: str,
    workflow: str,
    targets: dict,
    warn_at: float = 0.8,
    escalate_after: int | None = None,
    calendar: BusinessCalendar | None = None,
) -> SlaPolicy:
    policy = SlaPolicy.objects.create(name=name, workflow=workflow, calendar=calendar)
    SlaPolicyVersion.objects.create(
        policy=policy, number=1, targets=targets, warn_at=warn_at, escalate_after=escalate_after
    )
    return policy


@transaction.atomic
def policy_change(policy: SlaPolicy, **changes) -> SlaPolicyVersion:
    """A new version with `changes` (targets, warn_at, escalate_after) over the current one."""
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    current = policy.current
    fields = {
        name: changes.get(name, getattr(current, name))
        for name in ("targets", "warn_at", "escalate_after")
    }
    return SlaPolicyVersion.objects.create(policy=policy, number=current.number + 1, **fields)
