import holidays
from django import forms
from django.contrib import admin

from sla.models import BusinessCalendar, DayOff, OpeningHours, SlaPolicy, SlaPolicyVersion


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 1


class DayOffInline(admin.TabularInline):
    model = DayOff
    extra = 1


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ("name", "time_zone", "country", "subdivision")

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
