from rest_framework import serializers

from routing.models import Partner, Team, Workflow
from sla.clocks import targets_problem
from sla.models import BusinessCalendar, EscalateTo, SlaPolicy


class PolicyWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    workflow = serializers.SlugRelatedField(slug_field="slug", queryset=Workflow.objects.all())
    targets = serializers.JSONField(help_text='Whole seconds per clock: {"partner_ack": 3600}.')
    warn_at = serializers.FloatField(
        default=0.8, min_value=0.01, max_value=0.99, help_text="Warn at this share of a target."
    )
    escalate_after = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Seconds after a breach."
    )
    escalate_to = serializers.ChoiceField(choices=EscalateTo.choices, default=EscalateTo.TEAM_LEAD)
    calendar = serializers.SlugRelatedField(
        slug_field="name", queryset=BusinessCalendar.objects.all(), required=False, allow_null=True
    )
    partner = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Partner.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this partner's sessions; the most specific policy that fits wins.",
    )
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this team's sessions.",
    )

    def validate_name(self, name: str) -> str:
        taken = SlaPolicy.objects.filter(name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(f"a policy is called '{name}' already")
        return name

    def validate_targets(self, targets) -> dict:
        problem = targets_problem(targets)
        if problem:
            raise serializers.ValidationError(problem)
        return targets


class PolicySerializer(serializers.ModelSerializer):
    calendar = serializers.SlugRelatedField(slug_field="name", read_only=True)
    version = serializers.SerializerMethodField()
    targets = serializers.SerializerMethodField()
    warn_at = serializers.SerializerMethodField()
    escalate_after = serializers.SerializerMethodField()
    escalate_to = serializers.SerializerMethodField()

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "workflow",
            "partner",
            "team",
            "calendar",
            "version",
            "targets",
            "warn_at",
            "escalate_after",
            "escalate_to",
            "active",
        ]
        read_only_fields = fields

    def get_version(self, policy: SlaPolicy) -> int:
        return policy.current.number

    def get_targets(self, policy: SlaPolicy) -> dict:
        return policy.current.targets

    def get_warn_at(self, policy: SlaPolicy) -> float:
        return policy.current.warn_at

    def get_escalate_after(self, policy: SlaPolicy) -> int | None:
        return policy.current.escalate_after

    def get_escalate_to(self, policy: SlaPolicy) -> str:
        return policy.current.escalate_to
