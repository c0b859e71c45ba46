"""The commands the product ships with; an admin may rename, change or add to them."""

from django.db import migrations

DEFAULT_COMMANDS = [
    {
        "name": "confirmbooking",
        "aliases": ["confirm"],
        "action": "set_status",
        "value": "confirmed",
        "arguments": ["booking_ref?"],
        "used_by": ["agent", "partner"],
    },
    {
        "name": "finalcheck",
        "action": "set_status",
        "value": "completed",
        "arguments": ["booking_ref?"],
        "used_by": ["agent", "partner"],
        "workflows": ["booking"],
    },
    {
        "name": "noshow",
        "action": "set_status",
        "value": "no_show",
        "arguments": ["booking_ref?"],
        "used_by": ["agent", "partner"],
    },
    {"name": "tag", "action": "add_tag", "arguments": ["text"], "used_by": ["agent"]},
    {"name": "close", "action": "close", "used_by": ["agent"]},
]


def create(apps, schema_editor):
    Command = apps.get_model("relay", "Command")
    for fields in DEFAULT_COMMANDS:
        Command.objects.get_or_create(name=fields["name"], defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("relay", "0022_slash_commands")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
