"""The rest of the commands the product ships with: follow up, quotes, handover, notes."""

from django.db import migrations

DEFAULT_COMMANDS = [
    {"name": "followup", "action": "follow_up", "used_by": ["agent", "partner"]},
    {
        "name": "quote",
        "action": "quote",
        "arguments": ["money", "duration", "text?"],
        "used_by": ["partner", "agent"],
    },
    {
        "name": "QUOTE_24HRS",
        "action": "quote",
        "value": "24 hours",
        "arguments": ["money", "text?"],
        "used_by": ["partner", "agent"],
    },
    {
        "name": "customring",
        "action": "add_tag",
        "value": "custom-ring",
        "used_by": ["agent", "partner", "customer"],
        "workflows": ["bespoke-inquiry"],
    },
    {
        "name": "handover",
        "action": "handover",
        "used_by": ["agent", "partner", "customer"],
        "workflows": ["childcare-interview"],
    },
    {"name": "note", "action": "note", "arguments": ["text"], "used_by": ["agent"]},
]


def create(apps, schema_editor):
    Command = apps.get_model("relay", "Command")
    for fields in DEFAULT_COMMANDS:
        Command.objects.get_or_create(name=fields["name"], defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("relay", "0026_quotes_handovers_notes")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
