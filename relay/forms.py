from django import forms

from relay import phones


class PhoneNumberField(forms.CharField):
    """A phone number in international format, cleaned to E.164."""

    def clean(self, value) -> str:
        value = super().clean(value)
        if not value:
            return value
        try:
            return phones.normalise_e164(value)
        except phones.InvalidPhoneNumber as exc:
            raise forms.ValidationError(f"This number {exc}.") from exc
