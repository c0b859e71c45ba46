"""The configuration console for the relay. Real numbers (and the texts and payloads that may
carry them) are shown only to users with relay.view_real_number; everyone else sees them
masked."""

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html

from relay import crypto, phones
from relay.api.authentication import api_keys_revoke
from relay.choices import LIVE_SESSION_STATUSES
from relay.commands.service import command_problems
from relay.exceptions import RelayError
from relay.fields import LanguageFormField, PhoneNumberField
from relay.forms import FixedAfterCreateForm
from relay.masking import RevealMixin, sees_real_numbers
from relay.models import (
    ApiKey,
    Command,
    ConsoleMessage,
    Contact,
    Handover,
    HeldMessage,
    LeakageAttempt,
    Leg,
    MaskingPool,
    Message,
    MessageTemplate,
    Note,
    OperatorAlert,
    OutboundHold,
    Participant,
    ProxyNumber,
    Quote,
    RelaySession,
    Reminder,
    Slot,
    TextOverride,
    ThreadView,
    TimelineEvent,
    WebhookPayload,
)
from relay.privacy import redact
from relay.providers.base import ProviderError
from relay.selectors import message_reason, messages_explained
from relay.services.alerts import alerts_resolve
from relay.services.holds import outbound_resume
from relay.services.sessions import session_close, session_reopen
from relay.services.templates import templates_sync
from relay.texts import CATALOGUE, placeholders
from relay.timeline import Actor
from routing.selectors import workflow_slug_problem

HIDDEN = "Hidden: it holds real numbers."


def pretty_json(value) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return format_html("<pre>{}</pre>", value)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', json.dumps(value, indent=2))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the relay writes: looked at here, never added, edited or deleted. Actions
    that call services ask for the "manage" permission, which is the model's change one."""

    show_full_result_count = False  # counting a large table on every page is slow

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_manage_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


class ProxyNumberForm(FixedAfterCreateForm):
    fixed = ("e164", "phone_number_id")
    e164 = PhoneNumberField(label="Number", max_length=20)

    class Meta:
        model = ProxyNumber
        fields = ("pool", "e164", "phone_number_id", "kind", "intake_workflow", "active")

    def clean_intake_workflow(self) -> str:
        slug = self.cleaned_data["intake_workflow"]
        if slug and (problem := workflow_slug_problem(slug)):
            raise forms.ValidationError(problem)
        return slug


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ReadOnlyAdmin):
    """Templates are created and approved in WhatsApp Manager; here they are synced and read."""

    list_display = ("name", "language", "category", "status", "parameter_count", "account")
    list_filter = ("status", "language", "category", "account")
    search_fields = ("name",)
    fields = (
        "name",
        "language",
        "account",
        "category",
        "status",
        "body",
        "parameter_names",
        "other_variables",
        "template_id",
        "synced_at",
    )
    readonly_fields = fields
    change_list_template = "admin/relay/messagetemplate/change_list.html"

    def get_urls(self):
        sync = self.admin_site.admin_view(self.sync_view)
        return [path("sync/", sync, name="relay_messagetemplate_sync"), *super().get_urls()]

    def sync_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not self.has_manage_permission(request):
            raise PermissionDenied
        try:
            result = templates_sync()
        except ProviderError as error:
            self.message_user(request, f"Templates could not be synced: {error}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"Templates synced from {', '.join(result.accounts) or 'the local catalogue'}: "
                f"{result.created} new, {result.updated} updated, {result.removed} removed.",
                messages.SUCCESS,
            )
        return redirect("admin:relay_messagetemplate_changelist")

    @admin.display(description="parameters")
    def parameter_count(self, template: MessageTemplate) -> int:
        return template.parameter_count


class MaskingPoolForm(forms.ModelForm):
    language = LanguageFormField(
        label="Default language",
        max_length=15,
        help_text=MaskingPool._meta.get_field("language").help_text,
    )

    class Meta:
        model = MaskingPool
        fields = ("name", "partner", "account", "language", "multiplexing", "notice_template")

    def clean(self) -> dict:
        cleaned = super().clean()
        template = cleaned.get("notice_template")
        account = cleaned.get("account") or settings.WHATSAPP_BUSINESS_ACCOUNT_ID
        problem = template.invitation_problem(account=account) if template else None
        if problem:
            self.add_error("notice_template", f"This cannot be used: {problem}.")
        return cleaned


class ProxyNumberInline(admin.TabularInline):
    model = ProxyNumber
    form = ProxyNumberForm
    fields = ("e164", "phone_number_id", "kind", "intake_workflow", "active", "backoff_until")
    readonly_fields = ("backoff_until",)
    extra = 1
    can_delete = False  # numbers are referenced by sessions; deactivate one instead


@admin.register(MaskingPool)
class MaskingPoolAdmin(admin.ModelAdmin):
    form = MaskingPoolForm
    list_display = (
        "name",
        "partner",
        "language",
        "multiplexing",
        "notice_template",
        "number_count",
    )
    list_filter = ("multiplexing",)
    search_fields = ("name", "partner__name", "partner__code")
    list_select_related = ("partner", "notice_template")
    autocomplete_fields = ("partner", "notice_template")
    inlines = (ProxyNumberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(number_count=Count("numbers"))

    @admin.display(description="numbers", ordering="number_count")
    def number_count(self, pool) -> int:
        return pool.number_count


@admin.register(ProxyNumber)
class ProxyNumberAdmin(admin.ModelAdmin):
    form = ProxyNumberForm
    list_display = ("e164", "phone_number_id", "pool", "kind", "active", "backoff_until")
    list_filter = ("kind", "active", "pool")
    search_fields = ("e164", "phone_number_id")
    list_select_related = ("pool",)
    autocomplete_fields = ("pool",)
    readonly_fields = ("backoff_until", "backoff_level", "created_at")


class ContactForm(forms.ModelForm):
    language = LanguageFormField(
        required=False, max_length=15, help_text=Contact._meta.get_field("language").help_text
    )

    class Meta:
        model = Contact
        fields = ("language",)


@admin.register(Contact)
class ContactAdmin(RevealMixin, admin.ModelAdmin):
    form = ContactForm
    list_display = ("__str__", "number", "language", "created_at")
    list_filter = ("language",)
    fields = ("display_name", "number", "language", "created_at")
    readonly_fields = ("display_name", "number", "created_at")

    # The WhatsApp profile name is as personal as the number: same permission.
    def get_fields(self, request: HttpRequest, obj=None) -> list:
        fields = super().get_fields(request, obj)
        return fields if sees_real_numbers(request) else [f for f in fields if f != "display_name"]

    search_fields = ("display_name",)  # results only for those allowed to see them (below)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Contacts come from partners' contact lists, sessions and inbound messages.
        return False

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        # Numbers are encrypted: only an exact number can be found, through its lookup hash,
        # and only by someone allowed to see it (anyone else could probe for numbers).
        if not sees_real_numbers(request):
            return (queryset.none() if search_term else found), duplicates
        try:
            e164 = phones.normalise_e164(search_term)
        except phones.InvalidPhoneNumber:
            return found, duplicates
        return found | queryset.filter(phone_hash=crypto.lookup_hash(e164)), duplicates


class ParticipantInline(RevealMixin, admin.TabularInline):
    model = Participant
    fields = ("role", "name", "number", "proxy_number", "thread_tag", "multiplexed", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("contact", "proxy_number")


class MessageTextMixin:
    """A message's text, with contact details redacted for those who may not see them: an
    inbound text is kept as written, before the privacy guard ran."""

    revealed = {"number": "real_number", "text": "full_text", "payload_hidden": "payload_json"}

    @admin.display(description="text")
    def text(self, message: Message) -> str:
        return redact(message.body).text if message.body else ""

    @admin.display(description="text")
    def full_text(self, message: Message) -> str:
        return message.body

    @admin.display(description="why")
    def why(self, message: Message) -> str:
        return message_reason(message)

    @admin.display(description="payload")
    def payload_hidden(self, message: Message) -> str:
        return HIDDEN

    @admin.display(description="payload")
    def payload_json(self, message: Message) -> str:
        return pretty_json(message.payload)


class TranscriptInline(MessageTextMixin, RevealMixin, admin.TabularInline):
    model = Message
    verbose_name_plural = "transcript"
    fk_name = "session"
    fields = (
        "created_at",
        "direction",
        "participant",
        "origin",
        "type",
        "text",
        "status",
        "why",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return messages_explained(super().get_queryset(request).select_related("participant"))


class TriageFilter(admin.SimpleListFilter):
    title = "triage"
    parameter_name = "triage"

    def lookups(self, request, model_admin):
        return [("yes", "Waiting in triage (no partner yet)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(partner__isnull=True, status__in=LIVE_SESSION_STATUSES)
        return queryset


@admin.register(RelaySession)
class RelaySessionAdmin(ReadOnlyAdmin):
    list_display = (
        "external_ref",
        "workflow",
        "booking_status",
        "mode",
        "status",
        "partner",
        "team",
        "assignee",
        "pool",
        "last_interaction_at",
        "expires_at",
    )
    list_filter = (
        "status",
        "mode",
        "workflow",
        TriageFilter,
        "team",
        "priority",
        "handed_over",
        "pool",
    )
    search_fields = ("external_ref", "partner__code", "partner__name")
    list_select_related = ("partner", "pool", "team", "assignee")
    readonly_fields = (
        "external_ref",
        "workflow",
        "booking_status",
        "mode",
        "status",
        "pool",
        "partner",
        "routing",
        "team",
        "assignee",
        "priority",
        "tags",
        "handed_over",
        "ttl",
        "expires_at",
        "last_interaction_at",
        "created_at",
        "closed_at",
        "closed_reason",
    )
    fields = readonly_fields
    inlines = (ParticipantInline, TranscriptInline)
    actions = ("close", "reopen")

    @admin.display(description="routing decision")
    def routing(self, session: RelaySession) -> str:
        decision = getattr(session, "routing_decision", None)
        if decision is None:
            return "opened for a given partner (API)"
        steps = [f"{step['name']}: {', '.join(step['did'])}" for step in decision.steps]
        outcome = "in triage: no rule placed it" if decision.triage else "routed"
        return f"{outcome}. " + ("; ".join(steps) or "No rule matched.")

    @admin.action(description="Close the selected sessions", permissions=["manage"])
    def close(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            "closed",
            lambda session: session_close(
                session=session, reason="closed in the admin", actor=Actor.of_user(request.user)
            ),
        )

    @admin.action(description="Reopen the selected sessions", permissions=["manage"])
    def reopen(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            "reopened",
            lambda s: session_reopen(session=s, actor=Actor.of_user(request.user)),
        )

    def _each(self, request: HttpRequest, queryset: QuerySet, done: str, service) -> None:
        count = 0
        for session in queryset:
            try:
                service(session)
            except RelayError as exc:
                self.message_user(request, f"{session.external_ref}: {exc}", messages.WARNING)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} session(s) {done}.", messages.SUCCESS)


@admin.register(Participant)
class ParticipantAdmin(RevealMixin, ReadOnlyAdmin):
    list_display = ("session", "role", "name", "number", "proxy_number", "thread_tag", "active")
    list_filter = ("role", "active", "multiplexed")
    search_fields = ("session__external_ref", "name", "thread_tag")
    list_select_related = ("session", "contact", "proxy_number")
    fields = (
        "session",
        "role",
        "name",
        "number",
        "proxy_number",
        "thread_tag",
        "multiplexed",
        "active",
    )
    readonly_fields = fields


@admin.register(Leg)
class LegAdmin(RevealMixin, ReadOnlyAdmin):
    list_display = ("number", "proxy_number", "last_inbound_at", "window_open", "backoff_until")
    search_fields = ("proxy_number__e164",)
    list_select_related = ("contact", "proxy_number")
    fields = (
        "number",
        "proxy_number",
        "last_inbound_at",
        "backoff_until",
        "backoff_level",
        "last_stranger_notice_at",
    )
    readonly_fields = fields

    @admin.display(description="24-hour window open", boolean=True)
    def window_open(self, leg: Leg) -> bool:
        return leg.window_open()


@admin.register(Message)
class MessageAdmin(MessageTextMixin, RevealMixin, ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "session",
        "direction",
        "origin",
        "type",
        "short_text",
        "status",
        "why",
        "proxy_number",
    )
    list_filter = ("direction", "origin", "type", "status")
    search_fields = ("session__external_ref", "provider_message_id")
    list_select_related = ("session", "proxy_number")
    fields = (
        "session",
        "participant",
        "direction",
        "origin",
        "number",
        "proxy_number",
        "type",
        "text",
        "payload_hidden",
        "status",
        "why",
        "provider_message_id",
        "source",
        "reply_to",
        "wa_timestamp",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "delivered_at",
        "read_at",
        "failed_at",
        "error_code",
        "error_message",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return messages_explained(super().get_queryset(request))

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        text = self.text(message)
        return text if len(text) <= 60 else text[:59] + "…"


@admin.register(HeldMessage)
class HeldMessageAdmin(MessageTextMixin, RevealMixin, ReadOnlyAdmin):
    """What waits for a recipient to write again, and why: an invitation went out, or the
    pool has no approved template (see operator alerts)."""

    list_display = ("created_at", "session", "to", "short_text", "why", "proxy_number")
    list_select_related = ("session", "participant", "proxy_number")
    search_fields = ("session__external_ref",)
    fields = ("session", "to", "proxy_number", "type", "text", "why", "created_at")
    readonly_fields = fields

    @admin.display(description="to")
    def to(self, message: Message) -> str:
        return message.participant.get_role_display() if message.participant else ""

    @admin.display(description="why")
    def why(self, message: Message) -> str:
        return message.status_reason

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        text = self.text(message)
        return text if len(text) <= 60 else text[:59] + "…"


@admin.register(LeakageAttempt)
class LeakageAttemptAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "session", "message", "kind", "count")
    list_filter = ("kind",)
    search_fields = ("session__external_ref",)
    list_select_related = ("session", "message")


@admin.register(WebhookPayload)
class WebhookPayloadAdmin(RevealMixin, ReadOnlyAdmin):
    revealed = {"body_hidden": "body_json"}
    list_display = ("__str__", "received_at", "processed_at", "has_error")
    list_filter = ("processed_at",)
    fields = ("received_at", "processed_at", "error", "body_hidden")
    readonly_fields = fields

    @admin.display(description="error", boolean=True)
    def has_error(self, payload: WebhookPayload) -> bool:
        return bool(payload.error)

    @admin.display(description="body")
    def body_hidden(self, payload: WebhookPayload) -> str:
        return HIDDEN

    @admin.display(description="body")
    def body_json(self, payload: WebhookPayload) -> str:
        return pretty_json(payload.body)


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "actor", "session", "message")
    list_filter = ("kind", "actor")
    search_fields = ("kind", "session__external_ref")
    list_select_related = ("session", "message")
    raw_id_fields = ("session", "message")
    fields = (
        "created_at",
        "kind",
        "actor",
        "actor_user",
        "actor_api_key",
        "session",
        "message",
        "detail",
    )
    readonly_fields = fields


@admin.register(OutboundHold)
class OutboundHoldAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "error_code", "reason", "cleared_at")
    list_filter = ("cleared_at",)
    actions = ("resume_sending",)

    @admin.action(description="Resume sending (clears every open hold)", permissions=["manage"])
    def resume_sending(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = outbound_resume()
        self.message_user(request, f"Sending resumed; {queued} waiting message(s) queued again.")


@admin.register(OperatorAlert)
class OperatorAlertAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "message", "resolved_at")
    list_filter = ("resolved_at", "kind")
    search_fields = ("kind", "message")
    actions = ("mark_resolved",)

    @admin.action(description="Mark the selected alerts resolved", permissions=["manage"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = alerts_resolve(alerts=queryset)
        self.message_user(request, f"{count} alert(s) resolved.")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are made with `manage.py create_api_key NAME`, which shows the key once."""

    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    @admin.action(description="Revoke the selected keys", permissions=["manage"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = api_keys_revoke(keys=queryset)
        self.message_user(request, f"{count} key(s) revoked.")


@admin.register(ConsoleMessage)
class ConsoleMessageAdmin(RevealMixin, ReadOnlyAdmin):
    """What the console provider 'sent'; the payload names the recipient's real number."""

    revealed = {"number": "real_number", "payload_hidden": "payload_json"}
    list_display = ("provider_message_id", "phone_number_id", "number", "type", "created_at")
    search_fields = ("provider_message_id", "phone_number_id")
    fields = ("provider_message_id", "phone_number_id", "number", "created_at", "payload_hidden")
    readonly_fields = fields

    @admin.display(description="type")
    def type(self, message: ConsoleMessage) -> str:
        return message.payload.get("type", "")

    @admin.display(description="to")
    def number(self, message: ConsoleMessage) -> str:
        return phones.mask(message.payload.get("to", ""))

    @admin.display(description="to")
    def real_number(self, message: ConsoleMessage) -> str:
        return message.payload.get("to", "")

    @admin.display(description="payload")
    def payload_hidden(self, message: ConsoleMessage) -> str:
        return HIDDEN

    @admin.display(description="payload")
    def payload_json(self, message: ConsoleMessage) -> str:
        return pretty_json(message.payload)


class TextOverrideForm(forms.ModelForm):
    language = LanguageFormField(
        max_length=15, help_text=TextOverride._meta.get_field("language").help_text
    )

    class Meta:
        model = TextOverride
        fields = ("key", "language", "text")
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def clean(self) -> dict:
        cleaned = super().clean()
        key, text = cleaned.get("key"), cleaned.get("text")
        if not key or not text:
            return cleaned
        wanted = placeholders(CATALOGUE[key])
        try:
            given = placeholders(text)
        except ValueError:
            given = None
        if given != wanted:
            names = ", ".join("{" + name + "}" for name in sorted(wanted)) or "none"
            self.add_error("text", f"Keep the placeholders of the original exactly: {names}.")
        return cleaned


@admin.register(TextOverride)
class TextOverrideAdmin(admin.ModelAdmin):
    """Reword what Switchboard sends people, per language, without a deploy."""

    form = TextOverrideForm
    list_display = ("key", "language", "text", "original", "updated_at")
    list_filter = ("key", "language")
    search_fields = ("text",)
    readonly_fields = ("original",)
    fields = ("key", "language", "original", "text")

    @admin.display(description="original (English)")
    def original(self, override: TextOverride) -> str:
        return CATALOGUE.get(override.key, "") if override.pk else "Choose a text and save."


class CommandForm(forms.ModelForm):
    class Meta:
        model = Command
        fields = (
            "name",
            "aliases",
            "action",
            "value",
            "arguments",
            "used_by",
            "workflows",
            "active",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        for field, problem in command_problems(cleaned, instance=self.instance).items():
            self.add_error(field, problem)
        return cleaned


@admin.register(Command)
class CommandAdmin(admin.ModelAdmin):
    form = CommandForm
    list_display = ("name", "usage", "action", "value", "used_by", "workflows", "active")
    list_editable = ("active",)
    list_filter = ("action", "active")
    search_fields = ("name",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Made by commands and the services they call; an admin reads them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ("session", "amount", "currency", "lead_time", "final_amount", "status")
    list_filter = ("status", "currency")
    search_fields = ("session__external_ref",)


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ("session", "status", "customer_agreed_at", "partner_agreed_at", "expires_at")
    list_filter = ("status",)
    search_fields = ("session__external_ref",)


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ("session", "body", "author", "created_at")
    search_fields = ("session__external_ref", "body")


@admin.register(ThreadView)
class ThreadViewAdmin(ReadOnlyAdmin):
    """Who had which thread open in the inbox, and what they had read there."""

    list_display = ("session", "user", "seen_at", "read_up_to")
    search_fields = ("session__external_ref", "user__username")


class ReminderInline(admin.TabularInline):
    model = Reminder
    fields = ("due_at", "sent_at", "cancelled")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ("session", "starts_at", "status", "confirmed_at")
    list_filter = ("status",)
    search_fields = ("session__external_ref",)
    inlines = [ReminderInline]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("slot", "due_at", "sent_at", "cancelled")
    list_filter = ("cancelled",)
