"""The four workflows the product ships with; an admin may change or add to them. Sessions
opened before workflows existed keep their slug: each slug in use gets a workflow too."""

from django.db import migrations

DEMO_WORKFLOWS = [
    {
        "slug": "booking",
        "name": "Coworking booking",
        "mode": "direct",
        "statuses": ["requested", "confirmed", "completed", "cancelled", "no_show"],
        "transitions": {
            "requested": ["confirmed", "cancelled"],
            "confirmed": ["completed", "cancelled", "no_show"],
        },
        "partner_opening": "new_booking",
    },
    {
        "slug": "childcare-interview",
        "name": "Childcare interview",
        "mode": "direct",
        "statuses": ["matched", "scheduling", "scheduled", "hired", "declined", "no_show"],
        "transitions": {
            "matched": ["scheduling", "declined"],
            "scheduling": ["scheduled", "declined"],
            "scheduled": ["hired", "declined", "no_show", "scheduling"],
        },
        "customer_opening": "interview_match",
        "partner_opening": "interview_match",
    },
    {
        "slug": "export-feedback",
        "name": "Export feedback",
        "mode": "direct",
        "statuses": ["reported", "acknowledged", "resolved", "closed"],
        "transitions": {
            "reported": ["acknowledged", "resolved"],
            "acknowledged": ["resolved"],
            "resolved": ["closed", "acknowledged"],
        },
        "partner_opening": "buyer_feedback",
    },
    {
        "slug": "bespoke-inquiry",
        "name": "Bespoke jewellery inquiry",
        "mode": "mediated",
        "statuses": ["inquiry", "quoted", "accepted", "in_production", "delivered", "declined"],
        "transitions": {
            "inquiry": ["quoted", "declined"],
            "quoted": ["accepted", "declined", "quoted"],
            "accepted": ["in_production"],
            "in_production": ["delivered"],
        },
        "partner_opening": "new_inquiry",
    },
]


def create(apps, schema_editor):
    Workflow = apps.get_model("routing", "Workflow")
    RelaySession = apps.get_model("relay", "RelaySession")
    for fields in DEMO_WORKFLOWS:
        Workflow.objects.get_or_create(slug=fields["slug"], defaults=fields)
    in_use = RelaySession.objects.values_list("workflow", flat=True).distinct()
    for slug in set(in_use) - set(Workflow.objects.values_list("slug", flat=True)):
        Workflow.objects.create(slug=slug, name=slug.replace("-", " ").capitalize())


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0002_workflows_teams_rules"),
        ("relay", "0021_session_team"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
