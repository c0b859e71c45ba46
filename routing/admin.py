from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from relay.fields import LanguageFormField, PhoneNumberField
from relay.forms import FixedAfterCreateForm
from relay.masking import RevealMixin
from relay.selectors import OUR_NUMBER, contact_find, phone_is_ours
from routing.models import Partner, PartnerContact
from routing.services import partner_contact_save


class PartnerForm(FixedAfterCreateForm):
    fixed = ("code",)  # external systems open sessions by partner code

    class Meta:
        model = Partner
        fields = ("code", "name", "kind", "active")


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
    list_display = ("code", "name", "kind", "active", "contact_count", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    inlines = (PartnerContactInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(contact_count=Count("contacts"))

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
