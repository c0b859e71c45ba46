"""Workflows say how people are told of a status; the demo ones get words for theirs."""

from django.db import migrations, models

WORDS = {
    "booking": {"no_show": "missed (nobody came)"},
    "childcare-interview": {"scheduled": "interview set", "no_show": "interview missed"},
    "export-feedback": {"acknowledged": "seen by the factory"},
    "bespoke-inquiry": {"in_production": "being made", "quoted": "price sent"},
}


def words(apps, schema_editor):
    Workflow = apps.get_model("routing", "Workflow")
    for slug, status_words in WORDS.items():
        Workflow.objects.filter(slug=slug, status_words={}).update(status_words=status_words)


class Migration(migrations.Migration):
    dependencies = [("routing", "0004_workflow_time_zone")]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="status_words",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='How people are told of a status, e.g. {"no_show": "missed"}. A '
                "status not here is told as written, underscores as spaces.",
                verbose_name="statuses in words",
            ),
        ),
        migrations.RunPython(words, migrations.RunPython.noop),
    ]
