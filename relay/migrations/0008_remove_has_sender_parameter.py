from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("relay", "0007_fill_template_parameter_names"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="messagetemplate",
            name="has_sender_parameter",
        ),
    ]
