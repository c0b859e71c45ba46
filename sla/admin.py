import holidays
from django import forms
from django.contrib import admin

from sla.calendars import CalendarFileError, days_off_add, days_off_read
from sla.models import BusinessCalendar, DayOff, OpeningHours, SlaPolicy, SlaPolicyVersion


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
    fields = ("number", "targets", "warn_at", "escalate_after", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a new version comes from the API, so that running clocks keep theirs


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "workflow", "calendar", "active")
    list_filter = ("workflow", "active")
    inlines = [VersionInline]
