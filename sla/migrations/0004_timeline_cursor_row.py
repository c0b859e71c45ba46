"""The one row that says how far the clocks have read the timeline."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("sla", "TimelineCursor").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_clocks")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
