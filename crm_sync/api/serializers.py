from rest_framework import serializers

from crm_sync.models import Attempt, Endpoint, OutboxEvent
from crm_sync.services import events_problem, url_problem


class EndpointWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.JSONField(
        help_text='Event types, e.g. ["booking.status_changed"], or ["*"].'
    )
    include_text = serializers.BooleanField(
        default=False, help_text="message.relayed carries the relayed text too."
    )
    description = serializers.CharField(max_length=200, required=False, default="")
    active = serializers.BooleanField(required=False)

    def validate_url(self, url: str) -> str:
        problem = url_problem(url)
        if problem:
            raise serializers.ValidationError(problem)
        return url

    def validate_events(self, events) -> list[str]:
        problem = events_problem(events)
        if problem:
            raise serializers.ValidationError(problem)
        return events


class EndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "events",
            "include_text",
            "description",
            "active",
            "paused_at",
            "paused_reason",
            "created_at",
        ]
        read_only_fields = fields


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="Shown only now: keep it to verify deliveries.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField()


class AttemptSerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="delivery.event.event_id")

    class Meta:
        model = Attempt
        fields = ["event_id", "status_code", "error", "duration_ms", "at"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="event_id", help_text="The webhook-id of every delivery.")
    timestamp = serializers.DateTimeField(source="occurred_at")

    class Meta:
        model = OutboxEvent
        fields = ["id", "type", "timestamp", "data"]
        read_only_fields = fields


class ReplaySinceSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Dead-lettered events from this time on.")
