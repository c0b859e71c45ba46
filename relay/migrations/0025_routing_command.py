"""/routing <partner>: agents move a misrouted session to another partner."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("relay", "Command").objects.get_or_create(
        name="routing",
        defaults={
            "aliases": ["reroute"],
            "action": "reroute",
            "arguments": ["partner_code"],
            "used_by": ["agent"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("relay", "0024_participant_rerouted")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
