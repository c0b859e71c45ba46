"""Fields for phone numbers and languages, in forms and in the API, shared by every app."""

from django import forms
from rest_framework import serializers

from relay import languages, phones


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


class LanguageFormField(forms.CharField):
    """A language code (`es`, `pt-BR`), cleaned to its usual spelling."""

    def clean(self, value) -> str:
        value = super().clean(value)
        if not value:
            return value
        try:
            return languages.normalise(value)
        except languages.InvalidLanguage as exc:
            raise forms.ValidationError(f"This {exc}.") from exc


class E164Field(serializers.CharField):
    """A phone number in international format, stored normalised (`+14155550123`)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        try:
            return phones.normalise_e164(super().to_internal_value(data))
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc


class LanguageField(serializers.CharField):
    """A language code (`es`, `pt-BR`), stored normalised."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 15)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        try:
            return languages.normalise(super().to_internal_value(data))
        except languages.InvalidLanguage as exc:
            raise serializers.ValidationError(str(exc)) from exc
