from django import forms


class FixedAfterCreateForm(forms.ModelForm):
    """`fixed` fields are set once, on creation: other systems and live sessions refer to
    them, so changing one later would break routing."""

    fixed: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in self.fixed:
                if name in self.fields:
                    self.fields[name].disabled = True
