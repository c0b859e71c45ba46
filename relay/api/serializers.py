"""API shapes for pools, numbers, sessions and messages. Real phone numbers are accepted as
input and never serialized: participants are shown by role, name and proxy number."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from relay import phones
from relay.choices import Direction, Origin, Role, SessionMode
from relay.exceptions import RelayError
from relay.fields import E164Field, LanguageField
from relay.models import (
    MaskingPool,
    Message,
    MessageTemplate,
    Note,
    Participant,
    ProxyNumber,
    Quote,
    RelaySession,
    Slot,
)
from relay.privacy import redact
from relay.selectors import Reach, message_reason, participants_reach
from relay.services.openings import OPENING_QUEUED
from relay.services.quotes import lead_time_words
from relay.services.templates import invitation_template_find
from routing.models import Partner, PartnerContact, Team
from routing.selectors import workflow_slug_problem

RELAY = "relay"  # the sender or recipient of a message that is not a participant
# Described rather than enumerated: an enum here would be a second name for Role's choices.
ROLE_SCHEMA = {"type": "string", "nullable": True, "description": "customer, partner or relay"}


class TemplateSerializer(serializers.ModelSerializer):
    parameter_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "name",
            "language",
            "category",
            "status",
            "body",
            "parameter_count",
            "account",
            "synced_at",
        ]
        read_only_fields = fields


class TemplateSyncSerializer(serializers.Serializer):
    accounts = serializers.ListField(child=serializers.CharField())
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    removed = serializers.IntegerField(help_text="Gone from WhatsApp: now DELETED here.")


class TemplateRefSerializer(serializers.Serializer):
    """A template by name and language, as WhatsApp Manager names it."""

    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=15)


class PoolSerializer(serializers.ModelSerializer):
    partner = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Partner.objects.all(),
        required=False,
        allow_null=True,
        help_text="Code of the partner this pool is reserved for.",
    )
    notice_template = TemplateRefSerializer(
        required=False,
        allow_null=True,
        help_text="The approved template that invites someone whose 24-hour window is "
        "closed to reply; sent in their language when it exists in it.",
    )
    language = LanguageField(required=False, help_text="Default language of its contacts.")

    class Meta:
        model = MaskingPool
        fields = [
            "id",
            "name",
            "partner",
            "account",
            "language",
            "multiplexing",
            "notice_template",
            "created_at",
        ]

    def validate(self, attrs: dict) -> dict:
        ref = attrs.get("notice_template")
        if ref:
            account = attrs.get("account", getattr(self.instance, "account", ""))
            try:
                attrs["notice_template"] = invitation_template_find(account=account, **ref)
            except RelayError as exc:
                raise serializers.ValidationError({"notice_template": exc.message}) from exc
        return attrs

    # The template arrives by name and language and is stored as the row it names.
    def create(self, validated_data: dict) -> MaskingPool:
        return MaskingPool.objects.create(**validated_data)

    def update(self, pool: MaskingPool, validated_data: dict) -> MaskingPool:
        for name, value in validated_data.items():
            setattr(pool, name, value)
        pool.save()
        return pool


class NumberSerializer(serializers.ModelSerializer):
    # Declared so that uniqueness is checked on the normalised number.
    e164 = E164Field(validators=[UniqueValidator(queryset=ProxyNumber.objects.all())])

    class Meta:
        model = ProxyNumber
        fields = [
            "id",
            "e164",
            "phone_number_id",
            "pool",
            "kind",
            "intake_workflow",
            "active",
            "created_at",
        ]

    def validate_intake_workflow(self, slug: str) -> str:
        if slug and (problem := workflow_slug_problem(slug)):
            raise serializers.ValidationError(problem)
        return slug


class NumberUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProxyNumber
        fields = ["active"]


class PartySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = E164Field()
    language = LanguageField(
        required=False,
        default="",
        help_text="What Switchboard writes to them in, e.g. es, pt-BR; else the pool's.",
    )


class SessionCreateSerializer(serializers.Serializer):
    external_ref = serializers.CharField(max_length=100)
    workflow = serializers.CharField(
        max_length=50, default="booking", help_text="A workflow's slug (GET /api/v1/workflows/)."
    )
    mode = serializers.ChoiceField(
        SessionMode.choices, required=False, help_text="Default: the workflow's mode."
    )
    customer = PartySerializer()
    partner = serializers.SlugRelatedField(
        slug_field="code", queryset=Partner.objects.filter(active=True)
    )
    partner_contact = serializers.PrimaryKeyRelatedField(
        queryset=PartnerContact.objects.select_related("contact"), required=False
    )
    pool = serializers.PrimaryKeyRelatedField(queryset=MaskingPool.objects.all(), required=False)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False
    )
    ttl_hours = serializers.IntegerField(min_value=1, max_value=24 * 365, required=False)

    def validate(self, attrs: dict) -> dict:
        contact = attrs.get("partner_contact")
        if contact is not None and contact.partner_id != attrs["partner"].pk:
            raise serializers.ValidationError(
                {"partner_contact": "does not belong to this partner"}
            )
        return attrs


class ParticipantSerializer(serializers.ModelSerializer):
    proxy_number = serializers.CharField(source="proxy_number.e164", read_only=True)
    window_open = serializers.SerializerMethodField(
        help_text="Their 24-hour window is open: free text reaches them now."
    )
    reachable = serializers.SerializerMethodField(
        help_text="Something reaches them now: free text, or an approved invitation template."
    )
    reach = serializers.SerializerMethodField(help_text="The same, in words.")
    opening_queued = serializers.SerializerMethodField(
        help_text="Their workflow's opening template was queued to them when the session opened."
    )
    opening = serializers.CharField(
        read_only=True,
        help_text="What was done to tell them of the session, in words (blank: their workflow "
        "sends them no opening message).",
    )

    class Meta:
        model = Participant
        fields = [
            "role",
            "name",
            "proxy_number",
            "thread_tag",
            "multiplexed",
            "window_open",
            "reachable",
            "reach",
            "opening_queued",
            "opening",
        ]

    def _reach(self, participant: Participant) -> Reach:
        known = self.context.get("reach") or {}
        return known.get(participant.pk) or participants_reach([participant])[participant.pk]

    def get_window_open(self, participant: Participant) -> bool:
        return self._reach(participant).window_open

    def get_reachable(self, participant: Participant) -> bool:
        return self._reach(participant).reachable

    def get_reach(self, participant: Participant) -> str:
        return self._reach(participant).words

    def get_opening_queued(self, participant: Participant) -> bool:
        return participant.opening.startswith(OPENING_QUEUED)


class SessionSerializer(serializers.ModelSerializer):
    partner = serializers.SlugRelatedField(slug_field="code", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    participants = ParticipantSerializer(many=True, read_only=True)
    live = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField(
        help_text="Its SLA clocks as of this answer: clock, state (running, paused, met, "
        "warned, breached), due_at, warned_at, breached_at, stopped_at."
    )

    class Meta:
        model = RelaySession
        fields = [
            "id",
            "external_ref",
            "workflow",
            "booking_status",
            "mode",
            "status",
            "live",
            "partner",
            "team",
            "assignee",
            "priority",
            "tags",
            "pool",
            "handed_over",
            "participants",
            "created_at",
            "expires_at",
            "last_interaction_at",
            "closed_at",
            "closed_reason",
            "sla",
        ]

    def get_live(self, session: RelaySession) -> bool:
        return session.is_live()

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_sla(self, session: RelaySession) -> list[dict]:
        from sla.selectors import clocks_shown  # sla reads relay's sessions, not the reverse

        return clocks_shown(list(session.sla_clocks.all()))


class SessionCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class MessageCreateSerializer(serializers.Serializer):
    to = serializers.ChoiceField(Role.choices)
    text = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    """One message of a transcript, between a participant and the relay."""

    body = serializers.SerializerMethodField()
    status_reason = serializers.SerializerMethodField(
        help_text="Why it waits or was not passed on, in words; empty when all is well."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "origin",
            "type",
            "body",
            "status",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
            "status_reason",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict:
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        fields["from"] = serializers.SerializerMethodField()
        fields["to"] = serializers.SerializerMethodField()
        return fields

    @extend_schema_field(ROLE_SCHEMA)
    def get_from(self, message: Message) -> str | None:
        if message.direction == Direction.INBOUND:
            return _role_of(message.participant)
        source = message.source
        if message.origin == Origin.RELAYED and source is not None:
            return _role_of(source.participant)
        return RELAY

    @extend_schema_field(ROLE_SCHEMA)
    def get_to(self, message: Message) -> str | None:
        if message.direction == Direction.INBOUND:
            return RELAY
        return _role_of(message.participant)

    def get_status_reason(self, message: Message) -> str:
        return message_reason(message)

    @extend_schema_field(OpenApiTypes.STR)
    def get_body(self, message: Message) -> str:
        # What a participant typed is stored as sent; unless the session was handed over,
        # the contact details in it are hidden here as they were from the other side.
        if message.direction == Direction.OUTBOUND or message.session.handed_over:
            return message.body
        return redact(message.body, region=phones.region_of(message.contact.phone)).text


def _role_of(participant: Participant | None) -> str | None:
    return participant.role if participant is not None else None


class CommandSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4096, help_text="e.g. /confirmbooking BK-1042")


class CommandOutcomeSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    reply = serializers.CharField(help_text="What was done, or what is wrong and how to write it.")


class HeldActionSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=4096,
        required=False,
        help_text="forward: an edit to pass on in place of what was written (the original is "
        "kept); answer: what the writer is told.",
    )
    reason = serializers.CharField(
        max_length=280, required=False, help_text="discard: why (kept with the message)."
    )


class QuoteSerializer(serializers.ModelSerializer):
    lead_time = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = [
            "id",
            "status",
            "amount",
            "currency",
            "lead_time",
            "partner_terms",
            "margin_percent",
            "margin_amount",
            "final_amount",
            "terms",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields

    def get_lead_time(self, quote: Quote) -> str:
        return lead_time_words(quote.lead_time)


class QuoteSendSerializer(serializers.Serializer):
    margin_percent = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, min_value=-99, max_value=1000
    )
    margin_amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    terms = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    def validate(self, data: dict) -> dict:
        if ("margin_percent" in data) == ("margin_amount" in data):
            raise serializers.ValidationError(
                {"margin_percent": ["give either margin_percent or margin_amount"]}
            )
        return data


class SlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Slot
        fields = ["id", "starts_at", "status", "offered_at", "confirmed_at"]
        read_only_fields = fields


class SlotsOfferSerializer(serializers.Serializer):
    starts_at = serializers.ListField(
        child=serializers.DateTimeField(),
        min_length=1,
        max_length=10,
        help_text="The times to offer, ISO 8601 with their offset, e.g. 2026-12-08T10:00:00+01:00.",
    )


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "body", "author", "created_at"]
        read_only_fields = fields


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """`data` as `serializer_class` reads it; a 400 with field errors when it cannot."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
