"""/slots: a partner or agent offers times for an interview; the customer picks one."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("relay", "Command").objects.get_or_create(
        name="slots",
        defaults={
            "action": "offer_slots",
            "arguments": ["text"],
            "used_by": ["agent", "partner"],
            "workflows": ["childcare-interview"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("relay", "0029_slots_and_reminders")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
