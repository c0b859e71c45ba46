from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from crm_sync.models import Attempt, Delivery, Endpoint, OutboxEvent
from crm_sync.services import (
    endpoint_replay,
    endpoint_resume,
    endpoint_rotate_secret,
    event_replay,
    events_problem,
    url_problem,
)
from crm_sync.signing import secret_new
from relay import crypto


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = Endpoint
        fields = ("url", "description", "events", "include_text", "active")

    def clean_url(self) -> str:
        problem = url_problem(self.cleaned_data["url"])
        if problem:
            raise forms.ValidationError(problem)
        return self.cleaned_data["url"]

    def clean_events(self) -> list:
        problem = events_problem(self.cleaned_data["events"])
        if problem:
            raise forms.ValidationError(problem)
        return self.cleaned_data["events"]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """A new endpoint's secret is shown once, in the message after saving; rotating shows
    the next one, the old one signing beside it for 24 hours."""

    form = EndpointForm
    list_display = ("url", "events", "active", "paused_at", "paused_reason", "failing_since")
    list_filter = ("active",)
    readonly_fields = ("paused_at", "paused_reason", "failing_since", "created_at")
    actions = ["resume", "rotate_secret", "replay_dead_of_the_last_day"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        secret = secret_new()
        obj.secret_ciphertext = crypto.encrypt(secret)
        super().save_model(request, obj, form, change)
        self.message_user(
            request, f"Its signing secret, shown only now: {secret}", messages.WARNING
        )

    @admin.action(description="Resume: send what waited, in order")
    def resume(self, request, queryset) -> None:
        for endpoint in queryset:
            endpoint_resume(endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) resumed.")

    @admin.action(description="Rotate the signing secret (the old one signs for 24 hours)")
    def rotate_secret(self, request, queryset) -> None:
        for endpoint in queryset:
            secret = endpoint_rotate_secret(endpoint)
            self.message_user(
                request, f"{endpoint.url}: new secret, shown only now: {secret}", messages.WARNING
            )

    @admin.action(description="Replay what was dead-lettered in the last 24 hours")
    def replay_dead_of_the_last_day(self, request, queryset) -> None:
        since = timezone.now() - timedelta(hours=24)
        replayed = sum(endpoint_replay(endpoint, since=since) for endpoint in queryset)
        self.message_user(request, f"{replayed} deliveries set going again.")


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ("at", "status_code", "error", "duration_ms", "answer_start")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ("event", "endpoint", "status", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("status", "endpoint")
    search_fields = ("event__event_id", "event__external_ref")
    inlines = [AttemptInline]
    list_select_related = ("event", "endpoint")


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnly):
    list_display = ("event_id", "type", "external_ref", "occurred_at", "fanned_out")
    list_filter = ("type",)
    search_fields = ("event_id", "external_ref")
    actions = ["replay"]

    @admin.action(description="Replay to every endpoint that subscribes (same webhook-id)")
    def replay(self, request, queryset) -> None:
        replayed = sum(event_replay(event) for event in queryset)
        self.message_user(request, f"{replayed} deliveries set going again.")
