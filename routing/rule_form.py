"""A rule's conditions and actions edited as rows (a kind from a list, its value), so that
nobody configuring routing has to write JSON. Blank rows are left out."""

from django import forms

CONDITION_KINDS = [
    ("keyword", "text has a word"),
    ("regex", "text matches"),
    ("message_type", "message is a"),
    ("number", "written to"),
    ("workflow", "workflow is"),
    ("tag", "customer tag"),
    ("time", "comes within"),
]
CONDITIONS_HELP = (
    "All must hold; none: every new message. Values: words, comma separated; a pattern (a "
    "group named ref becomes the booking reference: (?P<ref>PO\\d+)); text, photo, pdf, "
    "document, audio...; a number such as +15550002000; a workflow's slug; a tag; days and "
    "hours such as mon-fri 09:00-18:00, with a time zone beside it (Europe/London). A row "
    "whose kind is blank is dropped."
)
ACTION_KINDS = [
    ("set_partner", "partner"),
    ("partner_by_reference", "partner owning code"),
    ("partner_by_specialization", "partner skilled in"),
    ("contact_role", "contact role"),
    ("assign_team", "team"),
    ("assign_agent", "agent"),
    ("add_tag", "add tag"),
    ("set_workflow", "workflow"),
    ("set_mode", "mode"),
    ("set_priority", "priority"),
    ("set_sla_policy", "SLA policy"),
]
ACTIONS_HELP = (
    "In order. Values: a partner's code; the name of the pattern's group that captured the "
    "code (ref), looked up in the reference table; a specialization or tag (the partner with "
    "the fewest live sessions gets it); a contact role (production); a team's slug; a "
    "username; a tag; a workflow's slug; direct or mediated; low, normal, high or urgent; an SLA "
    "policy's name."
)
SPARE_ROWS = 2
FIELDS_PER_ROW = 3  # kind, value, time zone


class RowsWidget(forms.MultiWidget):
    template_name = (
        "routing/rule_rows_widget.html"  # app templates: what form widgets are rendered from
    )

    def __init__(self, kinds, rows: int, zone: bool) -> None:
        self.rows, self.zone = rows, zone
        widgets = []
        for _ in range(rows):
            widgets += [
                forms.Select(choices=[("", "—"), *kinds]),
                forms.TextInput(attrs={"size": 30}),
                forms.TextInput(attrs={"size": 14, "placeholder": "Europe/London"})
                if zone
                else forms.HiddenInput(),
            ]
        super().__init__(widgets)

    def decompress(self, value) -> list:
        items = value if isinstance(value, list) else []
        flat = []
        for index in range(self.rows):
            item = items[index] if index < len(items) else {}
            flat += [item.get("kind", ""), item.get("value", ""), item.get("timezone", "")]
        return flat

    def get_context(self, name, value, attrs) -> dict:
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            value = self.decompress(value)  # the rule's own items, not the rows posted back
        context = super().get_context(name, value, attrs)
        subwidgets = context["widget"]["subwidgets"]
        context["zone"] = self.zone
        context["rows"] = [
            subwidgets[start : start + FIELDS_PER_ROW]
            for start in range(0, len(subwidgets), FIELDS_PER_ROW)
        ]
        return context


class RowsField(forms.MultiValueField):
    """A list of {kind, value[, timezone]} from rows of the widget."""

    def __init__(self, kinds, *, rows: int, zone: bool = False, **kwargs) -> None:
        fields = [forms.CharField(required=False) for _ in range(rows * FIELDS_PER_ROW)]
        super().__init__(
            fields,
            widget=RowsWidget(kinds, rows, zone),
            require_all_fields=False,
            required=False,
            **kwargs,
        )

    def compress(self, values) -> list[dict]:
        items = []
        for start in range(0, len(values), FIELDS_PER_ROW):
            kind, value, zone = (values[start : start + FIELDS_PER_ROW] + ["", "", ""])[:3]
            if not kind:
                continue
            item = {"kind": kind, "value": (value or "").strip()}
            if zone and zone.strip():
                item["timezone"] = zone.strip()
            items.append(item)
        return items


def rows_for(items) -> int:
    return max(3, len(items or []) + SPARE_ROWS)
