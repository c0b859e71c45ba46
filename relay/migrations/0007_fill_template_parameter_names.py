from django.db import migrations


def fill(apps, schema_editor) -> None:
    """A template that took the sender's name had one positional body parameter."""
    MessageTemplate = apps.get_model("relay", "MessageTemplate")
    MessageTemplate.objects.filter(has_sender_parameter=True).update(parameter_names=["1"])


class Migration(migrations.Migration):

    dependencies = [
        ("relay", "0006_templates_synced_from_whatsapp"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
