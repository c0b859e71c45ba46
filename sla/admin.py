import holidays
from django import forms
from django.contrib import admin

from sla.calendars import CalendarFileError, days_off_add, days_off_read
from sla.clocks import targets_problem
from sla.models import (
    BusinessCalendar,
    DayOff,
    EscalateTo,
    OpeningHours,
    RoiSettings,
    SlaPolicy,
    SlaPolicyVersion,
)
from sla.services import VERSIONED, policy_change


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 1


class DayOffInline(admin.TabularInline):
    model = DayOff
    extra = 1


class BusinessCalendarForm(forms.ModelForm):
    # Not a model field: the file is read here, so a bad one is a form error that saves
    # nothing, and its days are added once the calendar is saved (BusinessCalendarAdmin).
    days_off_file = forms.FileField(
        required=False,
        label="Import days off from an iCalendar file",
        help_text="An .ics file: each day of each event, recurring ones included, becomes "
        "a day off, for this year and the next two.",
    )

    class Meta:
        model = BusinessCalendar
        fields = ("name", "time_zone", "country", "subdivision")

    def clean_days_off_file(self) -> dict | None:
        upload = self.cleaned_data["days_off_file"]
        if upload is None:
            return None
        try:
            return days_off_read(upload.read())
        except CalendarFileError as exc:
            raise forms.ValidationError(f"{upload.name}: {exc}") from None

    def clean(self) -> dict:
        cleaned = super().clean()
        country, subdivision = cleaned.get("country", "").upper(), cleaned.get("subdivision", "")
        supported = holidays.list_supported_countries()
        if country and country not in supported:
            self.add_error("country", f"'{country}' has no public holidays we know; e.g. IN, GB.")
        elif country and subdivision and subdivision not in supported[country]:
            self.add_error(
                "subdivision", f"{country} has no '{subdivision}'; e.g. {supported[country][:3]}."
            )
        cleaned["country"] = country
        return cleaned


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """Opening hours with no interval at all mean always open."""

    form = BusinessCalendarForm
    list_display = ("name", "time_zone", "country", "subdivision")
    inlines = [OpeningHoursInline, DayOffInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        days = form.cleaned_data.get("days_off_file")
        if days is not None:
            added = days_off_add(form.instance, days)
            self.message_user(request, f"{added} days off added from the iCalendar file.")


class VersionInline(admin.TabularInline):
    model = SlaPolicyVersion
    fields = ("number", "targets", "warn_at", "escalate_after", "escalate_to", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a new version comes from the API, so that running clocks keep theirs


class SlaPolicyForm(forms.ModelForm):
    """The policy and the targets of its current version; changed targets save a new one."""

    targets = forms.JSONField(help_text='Whole seconds per clock, e.g. {"partner_ack": 3600}.')
    warn_at = forms.FloatField(
        initial=0.8, min_value=0.01, max_value=0.99, help_text="Warn at this share of a target."
    )
    escalate_after = forms.IntegerField(
        required=False, min_value=1, help_text="Seconds after a breach; blank: never."
    )
    escalate_to = forms.ChoiceField(choices=EscalateTo.choices, initial=EscalateTo.TEAM_LEAD)

    class Meta:
        model = SlaPolicy
        fields = ("name", "workflow", "partner", "team", "calendar", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in VERSIONED:
                self.initial[name] = getattr(self.instance.current, name)

    def clean_targets(self) -> dict:
        problem = targets_problem(self.cleaned_data["targets"])
        if problem:
            raise forms.ValidationError(problem)
        return self.cleaned_data["targets"]

    def version_changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in VERSIONED if name in self.changed_data}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = ("name", "workflow", "partner", "team", "calendar", "active")
    list_filter = ("workflow", "active")
    inlines = [VersionInline]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            fields = {name: form.cleaned_data[name] for name in VERSIONED}
            SlaPolicyVersion.objects.create(policy=obj, number=1, **fields)
        elif form.version_changes():
            version = policy_change(obj, **form.version_changes())
            self.message_user(request, f"Saved as version {version.number}.")


@admin.register(RoiSettings)
class RoiSettingsAdmin(admin.ModelAdmin):
    """The dashboard's ROI panel reads these (README, "Dashboard")."""

    list_display = ("__str__", "currency", "value_per_success", "cost_of_error", "licences")
