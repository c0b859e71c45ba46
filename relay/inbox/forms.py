"""What an agent submits from a thread. Each form checks its own input; the services check the
rest (a status the workflow does not allow, a session that has ended)."""

from django import forms

from relay.choices import Role

TEXT_LIMIT = 4096


class ReplyForm(forms.Form):
    to = forms.ChoiceField(label="To", choices=Role.choices)
    text = forms.CharField(label="Reply", max_length=TEXT_LIMIT, strip=True)
    # The newest timeline event the agent had seen: replies by others after it are warned of.
    seen = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    anyway = forms.BooleanField(required=False, widget=forms.HiddenInput)


class NoteForm(forms.Form):
    text = forms.CharField(label="Private note", max_length=4000, strip=True)


class CommandForm(forms.Form):
    text = forms.CharField(label="Command", max_length=TEXT_LIMIT, strip=True)


class StatusForm(forms.Form):
    status = forms.CharField(label="Booking status", max_length=50)


class AssignForm(forms.Form):
    user = forms.IntegerField(label="Assign to", min_value=1)


class HeldForm(forms.Form):
    text = forms.CharField(label="Edited text", max_length=TEXT_LIMIT, required=False)
    shown = forms.CharField(max_length=TEXT_LIMIT, required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label="Why discard it", max_length=200, required=False)


class QuoteForm(forms.Form):
    margin_percent = forms.DecimalField(
        label="Margin %", max_digits=6, decimal_places=2, min_value=-99, max_value=1000,
        required=False,
    )  # fmt: skip
    margin_amount = forms.DecimalField(
        label="or margin amount", max_digits=14, decimal_places=2, required=False
    )
    terms = forms.CharField(label="Terms for the customer", max_length=1000, required=False)

    def clean(self) -> dict:
        data = super().clean()
        percent, amount = data.get("margin_percent"), data.get("margin_amount")
        if (percent is None) == (amount is None) and not self.errors:
            raise forms.ValidationError("Give the margin as a percentage or as an amount.")
        return data


def first_error(form: forms.Form) -> str:
    """The form's first problem, in words, for showing beside it."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label and field != "__all__" else errors[0]
    return ""
