"""Which policy a session is held to: the one a routing rule chose for it, else the most
specific active policy of its workflow that fits its partner and team (a policy naming both
beats one naming the partner, which beats one naming the team, which beats the workflow's
own). Read once per batch of timeline events."""

from sla.business_time import Schedule
from sla.calendars import calendar_schedule
from sla.models import ChosenPolicy, SlaPolicy, SlaPolicyVersion

ALWAYS_OPEN = Schedule(zone="UTC", hours={})


class Policies:
    def __init__(self, session_ids):
        self.active = list(SlaPolicy.objects.filter(active=True).select_related("calendar"))
        by_pk = {policy.pk: policy for policy in self.active}
        self.current: dict[int, SlaPolicyVersion] = {}
        for version in SlaPolicyVersion.objects.filter(policy__in=by_pk).order_by(
            "policy", "-number"
        ):
            version.policy = by_pk[version.policy_id]  # its calendar is read with it
            self.current.setdefault(version.policy_id, version)
        self.schedules: dict[tuple[int, int], Schedule] = {}
        self.chosen = dict(
            ChosenPolicy.objects.filter(session_id__in=session_ids).values_list(
                "session_id", "policy_id"
            )
        )

    def schedule(self, version: SlaPolicyVersion, at) -> Schedule:
        """The business hours `version` counts in, around `at` (always open without a
        calendar); each calendar is read once per batch."""
        calendar = version.policy.calendar
        if calendar is None:
            return ALWAYS_OPEN
        key = (calendar.pk, at.year)
        if key not in self.schedules:
            self.schedules[key] = calendar_schedule(calendar, years=range(at.year, at.year + 2))
        return self.schedules[key]

    def choose(self, session, name: str) -> None:
        """A routing rule named `name` for `session`; an unknown or inactive name is ignored
        (the rule's check refuses one that does not exist when it is saved)."""
        policy = next((policy for policy in self.active if policy.name == name), None)
        if policy is not None:
            ChosenPolicy.objects.update_or_create(session=session, defaults={"policy": policy})
            self.chosen[session.pk] = policy.pk

    def version_for(self, session) -> SlaPolicyVersion | None:
        return self.version_fitting(
            session.pk,
            session.workflow,
            session.partner.code if session.partner_id else "",
            session.team.slug if session.team_id else "",
        )

    def version_fitting(
        self, session_id: int, workflow: str, partner: str, team: str
    ) -> SlaPolicyVersion | None:
        chosen = self.chosen.get(session_id)
        if chosen in self.current:
            return self.current[chosen]
        fitting = [
            policy
            for policy in self.active
            if policy.workflow == workflow
            and policy.partner in ("", partner)
            and policy.team in ("", team)
        ]
        if not fitting:
            return None
        best = max(
            fitting, key=lambda policy: (bool(policy.partner), bool(policy.team), -policy.pk)
        )
        return self.current.get(best.pk)
