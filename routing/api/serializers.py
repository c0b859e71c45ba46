"""Partners with their contacts. Contacts' real numbers go in and only come out masked."""

from rest_framework import serializers

from relay.fields import E164Field, LanguageField
from routing.models import Partner, PartnerContact, Reference, Rule, Team, Workflow
from routing.rules import rule_problems
from routing.sentences import rule_sentence


class PartnerContactCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = E164Field()
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    language = LanguageField(
        required=False,
        default="",
        help_text="What Switchboard writes to them in, e.g. es, pt-BR; else the pool's.",
    )


class PartnerCreateSerializer(serializers.ModelSerializer):
    contacts = PartnerContactCreateSerializer(many=True, required=False, default=list)
    specializations = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )

    class Meta:
        model = Partner
        fields = ["code", "name", "kind", "contacts", "specializations", "tags"]

    def validate_contacts(self, contacts: list[dict]) -> list[dict]:
        phones = [contact["phone"] for contact in contacts]
        if len(phones) != len(set(phones)):
            raise serializers.ValidationError("the same phone number is listed twice")
        return contacts


class PartnerContactSerializer(serializers.ModelSerializer):
    masked_phone = serializers.CharField(source="contact.masked_identity", read_only=True)
    language = serializers.CharField(source="contact.language", read_only=True)

    class Meta:
        model = PartnerContact
        fields = ["id", "name", "role", "language", "masked_phone"]


class PartnerSerializer(serializers.ModelSerializer):
    contacts = PartnerContactSerializer(many=True, read_only=True)
    specializations = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Partner
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "active",
            "specializations",
            "tags",
            "contacts",
            "created_at",
        ]


class WorkflowSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workflow
        fields = [
            "slug",
            "name",
            "mode",
            "statuses",
            "transitions",
            "customer_opening",
            "partner_opening",
            "status_words",
            "waiting_statuses",
            "time_zone",
        ]


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField(help_text="Usernames of its agents.")

    class Meta:
        model = Team
        fields = ["slug", "name", "assignment", "members"]

    def get_members(self, team: Team) -> list[str]:
        return sorted(agent.user.get_username() for agent in team.agents.all())


class ReferenceSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="An order or product code: PO1234.")
    partner = serializers.SlugRelatedField(slug_field="code", queryset=Partner.objects.all())

    def validate_code(self, code: str) -> str:
        code = Reference.normalised(code)
        if not code:
            raise serializers.ValidationError("a code cannot be blank")
        return code


class RuleItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField(allow_blank=True)
    timezone = serializers.CharField(required=False, help_text="For time conditions.")


class RuleSerializer(serializers.ModelSerializer):
    conditions = RuleItemSerializer(many=True, required=False)
    actions = RuleItemSerializer(many=True)
    sentence = serializers.SerializerMethodField(help_text="The rule, read as a sentence.")

    class Meta:
        model = Rule
        fields = ["id", "name", "position", "active", "stop", "conditions", "actions", "sentence"]
        read_only_fields = ["id"]

    def get_sentence(self, rule: Rule) -> str:
        return rule_sentence(rule)

    def validate(self, attrs: dict) -> dict:
        """The rule as it will be is checked whole; a PATCH keeps what it does not name."""
        rule = self.instance
        if "conditions" in attrs:
            attrs["conditions"] = [dict(item) for item in attrs["conditions"]]
        if "actions" in attrs:
            attrs["actions"] = [dict(item) for item in attrs["actions"]]
        problems = rule_problems(
            attrs.get("conditions", rule.conditions if rule else []),
            attrs.get("actions", rule.actions if rule else []),
        )
        if problems:
            raise serializers.ValidationError(problems)
        return attrs
