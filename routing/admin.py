from django import forms
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import escape

from relay.choices import LIVE_SESSION_STATUSES, MessageType
from relay.fields import LanguageFormField, PhoneNumberField
from relay.forms import FixedAfterCreateForm
from relay.masking import RevealMixin
from relay.selectors import OUR_NUMBER, contact_find, phone_is_ours
from relay.timeline import Actor
from routing.conditions import Sample
from routing.models import (
    Agent,
    Partner,
    PartnerContact,
    PartnerTag,
    Reference,
    RoutingDecision,
    Rule,
    Specialization,
    Team,
    Workflow,
)
from routing.rule_form import (
    ACTION_KINDS,
    ACTIONS_HELP,
    CONDITION_KINDS,
    CONDITIONS_HELP,
    RowsField,
    rows_for,
)
from routing.rules import rule_problems, rules_run
from routing.sentences import rule_sentence
from routing.services.assignment import agent_sessions_redistribute
from routing.services.partners import partner_contact_save
from routing.workflows import workflow_problem


class PartnerForm(FixedAfterCreateForm):
    fixed = ("code",)  # external systems open sessions by partner code

    class Meta:
        model = Partner
        fields = ("code", "name", "kind", "active", "specializations", "tags")


class PartnerContactForm(forms.ModelForm):
    """A partner's contact is entered by phone number; the Contact behind it is found or
    created when the form is saved (partner_contact_save), never while it is checked."""

    phone = PhoneNumberField(
        required=False,
        widget=forms.TextInput(attrs={"size": 16, "placeholder": "+447700900123"}),
        help_text="International format, e.g. +447700900123. "
        "On an existing contact, leave blank to keep the current number.",
    )
    language = LanguageFormField(
        required=False,
        max_length=15,
        widget=forms.TextInput(attrs={"size": 6, "placeholder": "es"}),
        help_text="What Switchboard writes to them in, e.g. es. Blank: the pool's language.",
    )

    class Meta:
        model = PartnerContact
        fields = ("partner", "name", "role")
        # Narrow enough for the inline table to fit a 1280-pixel screen.
        widgets = {
            "name": forms.TextInput(attrs={"size": 20}),
            "role": forms.TextInput(attrs={"size": 14}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = self.instance.pk is None
        if self.instance.pk:
            self.fields["language"].initial = self.instance.contact.language

    def clean(self) -> dict:
        cleaned = super().clean()
        phone = cleaned.get("phone")
        if not phone:
            return cleaned
        if phone_is_ours(phone):
            self.add_error("phone", f"This number {OUR_NUMBER}.")
            return cleaned
        # The model's (partner, contact) constraint is not checked by the form, because
        # `contact` is not one of its fields.
        partner, known = cleaned.get("partner"), contact_find(phone=phone)
        if partner and partner.pk and known and self._taken(partner, known):
            self.add_error("phone", "This number is already a contact of this partner.")
        return cleaned

    def save(self, commit: bool = True) -> PartnerContact:
        contact = super().save(commit=False)
        data = self.cleaned_data
        return partner_contact_save(
            partner_contact=contact, phone=data.get("phone", ""), language=data["language"]
        )

    def _taken(self, partner: Partner, contact) -> bool:
        others = PartnerContact.objects.exclude(pk=self.instance.pk)
        return others.filter(partner=partner, contact=contact).exists()


class PartnerContactInline(RevealMixin, admin.TabularInline):
    model = PartnerContact
    form = PartnerContactForm
    fields = ("name", "role", "phone", "language", "number")
    readonly_fields = ("number",)
    extra = 1

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("contact")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    form = PartnerForm
    list_display = ("code", "name", "kind", "active", "skills", "contact_count", "created_at")
    list_filter = ("kind", "active", "specializations", "tags")
    search_fields = ("code", "name", "specializations__name", "tags__name")
    filter_horizontal = ("specializations", "tags")
    inlines = (PartnerContactInline,)

    @admin.display(description="specializations and tags")
    def skills(self, partner: Partner) -> str:
        names = [s.name for s in partner.specializations.all()] + [
            f"#{t.name}" for t in partner.tags.all()
        ]
        return ", ".join(names)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        partners = super().get_queryset(request).annotate(contact_count=Count("contacts"))
        return partners.prefetch_related("specializations", "tags")

    @admin.display(description="contacts", ordering="contact_count")
    def contact_count(self, partner: Partner) -> int:
        return partner.contact_count


@admin.register(PartnerContact)
class PartnerContactAdmin(RevealMixin, admin.ModelAdmin):
    form = PartnerContactForm
    list_display = ("name", "partner", "role", "number", "created_at")
    list_filter = ("partner__kind",)
    search_fields = ("name", "role", "partner__code", "partner__name")
    list_select_related = ("partner", "contact")
    autocomplete_fields = ("partner",)
    fields = ("partner", "name", "role", "phone", "language", "number")
    readonly_fields = ("number",)


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = (
            "slug",
            "name",
            "mode",
            "statuses",
            "transitions",
            "customer_opening",
            "partner_opening",
            "status_words",
            "waiting_statuses",
            "success_status",
            "sessions_per_booking",
            "time_zone",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        words = cleaned.get("status_words") or {}
        if not isinstance(words, dict) or set(words) - set(cleaned.get("statuses") or []):
            self.add_error(
                "status_words",
                'Words only for this workflow\'s statuses, e.g. {"no_show": "missed"}.',
            )
        waiting = cleaned.get("waiting_statuses") or []
        if not isinstance(waiting, list) or set(waiting) - set(cleaned.get("statuses") or []):
            self.add_error("waiting_statuses", 'Some of its statuses, e.g. ["scheduling"].')
        success = cleaned.get("success_status")
        if success and success not in (cleaned.get("statuses") or []):
            self.add_error("success_status", "One of its statuses, e.g. confirmed.")
        problem = workflow_problem(cleaned.get("statuses"), cleaned.get("transitions"))
        if problem:
            raise forms.ValidationError(problem)
        return cleaned


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowForm
    list_display = ("name", "slug", "mode", "status_path", "customer_opening", "partner_opening")
    search_fields = ("slug", "name")

    @admin.display(description="booking statuses")
    def status_path(self, workflow: Workflow) -> str:
        return " → ".join(workflow.statuses)


@admin.register(Specialization, PartnerTag)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("name", "partner_count")
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(partner_count=Count("partners"))

    @admin.display(description="partners", ordering="partner_count")
    def partner_count(self, label) -> int:
        return label.partner_count


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "assignment", "agent_count")
    search_fields = ("slug", "name")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(agent_count=Count("agents"))

    @admin.display(description="agents", ordering="agent_count")
    def agent_count(self, team: Team) -> int:
        return team.agent_count


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("user", "team_names", "capacity", "available", "supervisor", "open_sessions")
    list_editable = ("available",)
    list_filter = ("available", "supervisor", "teams")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    filter_horizontal = ("teams",)
    autocomplete_fields = ("user",)
    actions = ("redistribute",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        live = Q(user__assigned_sessions__status__in=LIVE_SESSION_STATUSES)
        agents = super().get_queryset(request).select_related("user").prefetch_related("teams")
        return agents.annotate(open_count=Count("user__assigned_sessions", filter=live))

    @admin.display(description="teams")
    def team_names(self, agent: Agent) -> str:
        return ", ".join(team.slug for team in agent.teams.all())

    @admin.display(description="open sessions", ordering="open_count")
    def open_sessions(self, agent: Agent) -> str:
        return f"{agent.open_count} of {agent.capacity}"

    @admin.action(description="Mark away and give their open sessions to others of the team")
    def redistribute(self, request: HttpRequest, queryset: QuerySet) -> None:
        moved = 0
        for agent in queryset:
            Agent.objects.filter(pk=agent.pk).update(available=False)
            moved += agent_sessions_redistribute(agent=agent, actor=Actor.of_user(request.user))
        self.message_user(request, f"{moved} open sessions given to other agents or unassigned.")


@admin.register(Reference)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ("code", "partner", "created_at")
    search_fields = ("code", "partner__code", "partner__name")
    list_select_related = ("partner",)
    autocomplete_fields = ("partner",)
    show_full_result_count = False  # the table may hold hundreds of thousands of codes


class RuleForm(forms.ModelForm):
    """Conditions and actions as rows: a kind chosen from a list and its value."""

    class Meta:
        model = Rule
        fields = ("name", "position", "active", "stop", "conditions", "actions")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rule = self.instance
        self.fields["conditions"] = RowsField(
            CONDITION_KINDS,
            rows=rows_for(rule.conditions),
            zone=True,
            label="If",
            help_text=escape(CONDITIONS_HELP),  # the admin shows help texts as HTML
        )
        self.fields["actions"] = RowsField(
            ACTION_KINDS, rows=rows_for(rule.actions), label="Then", help_text=ACTIONS_HELP
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        for field, problems in rule_problems(
            cleaned.get("conditions", []), cleaned.get("actions", [])
        ).items():
            for problem in problems:
                self.add_error(field, problem)
        return cleaned


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ("position", "name", "sentence", "active", "stop")
    list_display_links = ("name",)
    list_editable = ("position", "active")
    list_filter = ("active", "stop")
    search_fields = ("name",)

    @admin.display(description="what it does")
    def sentence(self, rule: Rule) -> str:
        return rule_sentence(rule)

    def get_urls(self):
        preview = self.admin_site.admin_view(self.try_view)
        return [path("try/", preview, name="routing_rule_try"), *super().get_urls()]

    def try_view(self, request: HttpRequest) -> HttpResponse:
        """Where a message would go, with nothing sent and nothing stored."""
        form = TryMessageForm(request.POST or None)
        decision = None
        if request.method == "POST" and form.is_valid():
            decision = rules_run(form.sample())
        context = {
            **self.admin_site.each_context(request),
            "title": "Try a message on the routing rules",
            "opts": self.model._meta,
            "form": form,
            "decision": decision,
        }
        return TemplateResponse(request, "admin/routing/rule/try.html", context)


class TryMessageForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    type = forms.ChoiceField(
        label="Message type", choices=MessageType.choices, initial=MessageType.TEXT
    )
    mime_type = forms.CharField(
        required=False, help_text="For a document, e.g. application/pdf.", max_length=100
    )
    number = forms.CharField(
        required=False, help_text="The number written to, e.g. +15550001001.", max_length=20
    )
    workflow = forms.CharField(required=False, initial="booking", max_length=50)
    tags = forms.CharField(required=False, help_text="The customer's tags, comma separated.")
    at = forms.DateTimeField(
        label="Sent at", required=False, help_text="Blank: now. For time conditions."
    )

    def sample(self) -> Sample:
        data = self.cleaned_data
        return Sample(
            text=data["text"],
            type=data["type"],
            mime_type=data["mime_type"],
            number=data["number"],
            workflow=data["workflow"],
            tags={tag.strip() for tag in data["tags"].split(",") if tag.strip()},
            at=data["at"],
        )


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ("session", "outcome", "created_at")
    list_filter = ("triage",)
    search_fields = ("session__external_ref",)
    list_select_related = ("session",)
    readonly_fields = ("session", "message", "said", "triage", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="where it went")
    def outcome(self, decision: RoutingDecision) -> str:
        return "triage: no rule placed it" if decision.triage else "routed"

    @admin.display(description="rules that matched")
    def said(self, decision: RoutingDecision) -> str:
        lines = [f"{step['name']}: {', '.join(step['did'])}" for step in decision.steps]
        return "; ".join(lines) or "none"
