from django import forms
from django.db.models import Case, When

from relay.fields import PhoneNumberField
from relay.models import ProxyNumber
from relay.simulator.phone import phone_sessions_by_number


class PhoneForm(forms.Form):
    phone = PhoneNumberField(
        label="Be the phone",
        widget=forms.TextInput(attrs={"placeholder": "+14155550123", "autocomplete": "off"}),
    )


class ProxyNumberChoice(forms.ModelChoiceField):
    """Our numbers, those the phone has sessions on first, named by those sessions."""

    sessions: dict[int, list[str]] = {}

    def label_from_instance(self, number: ProxyNumber) -> str:
        if number.pk in self.sessions:
            return f"{number.e164} · {', '.join(self.sessions[number.pk])}"
        return f"{number.e164} ({number.pool.name}, {number.get_kind_display().lower()})"


class SendForm(forms.Form):
    """A text typed on the phone, or a tap on a list row or reply button."""

    phone = PhoneNumberField(widget=forms.HiddenInput)
    number = ProxyNumberChoice(
        ProxyNumber.objects.filter(active=True).select_related("pool").order_by("e164"),
        label="To",
        empty_label=None,
    )
    text = forms.CharField(required=False, max_length=4096)
    reply_kind = forms.ChoiceField(
        required=False, choices=[("list_reply", "list row"), ("button_reply", "button")]
    )
    reply_id = forms.CharField(required=False, max_length=256)
    reply_title = forms.CharField(required=False, max_length=256)

    def __init__(self, *args, phone: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["number"]
        field.sessions = phone_sessions_by_number(phone=phone) if phone else {}
        numbers = field.queryset.annotate(
            mine=Case(When(pk__in=list(field.sessions), then=0), default=1)
        )
        field.queryset = numbers.order_by("mine", "e164")

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("text", "").strip() and not cleaned.get("reply_id"):
            raise forms.ValidationError("Type a message first.")
        return cleaned

    @property
    def reply(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("reply_id"):
            return None
        return {
            "kind": data.get("reply_kind") or "list_reply",
            "id": data["reply_id"],
            "title": data.get("reply_title", ""),
        }
