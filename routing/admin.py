from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from relay.exceptions import RelayError
from relay.fields import PhoneNumberField
from relay.forms import FixedAfterCreateForm
from relay.masking import RevealMixin
from relay.services.contacts import contact_get_or_create
from routing.models import Partner, PartnerContact


class PartnerForm(FixedAfterCreateForm):
    fixed = ("code",)  # external systems open sessions by partner code

    class Meta:
        model = Partner
        fields = ("code", "name", "kind", "active")


class PartnerContactForm(forms.ModelForm):
    """A partner's contact is entered by phone number; the Contact behind it is found or
    created, so one person answering for two partners stays one contact."""

    phone = PhoneNumberField(
        required=False,
        help_text="International format, e.g. +447700900123. "
        "On an existing contact, leave blank to keep the current number.",
    )

    class Meta:
        model = PartnerContact
        fields = ("partner", "name", "role")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = self.instance.pk is None

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("phone"):
            return cleaned
        try:
            contact = contact_get_or_create(phone=cleaned["phone"], name=cleaned.get("name", ""))
        except RelayError as exc:
            self.add_error("phone", f"This number {exc}.")
            return cleaned
        # The model's (partner, contact) constraint is not checked by the form, because
        # `contact` is not one of its fields.
        partner = cleaned.get("partner")
        if partner and partner.pk and self._taken(partner, contact):
            self.add_error("phone", "This number is already a contact of this partner.")
        self.instance.contact = contact
        return cleaned

    def _taken(self, partner: Partner, contact) -> bool:
        others = PartnerContact.objects.exclude(pk=self.instance.pk)
        return others.filter(partner=partner, contact=contact).exists()


class PartnerContactInline(RevealMixin, admin.TabularInline):
    model = PartnerContact
    form = PartnerContactForm
    fields = ("name", "role", "phone", "number")
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
    fields = ("partner", "name", "role", "phone", "number")
    readonly_fields = ("number",)
