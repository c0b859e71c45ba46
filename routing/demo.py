"""Routing's part of the demo data: an intake number, a factory that owns an order, a
workshop with a specialization, the rules that route to them, and a team."""

from routing.models import Agent, Partner, Reference, Rule, Team
from routing.services.partners import PartnerContactInput, partner_create

INTAKE = ("+15550002000", "2000")
FACTORY = PartnerContactInput(name="Meena", phone="+919800000002", role="production")
WORKSHOP = PartnerContactInput(name="Luca", phone="+393400000003", role="manager")
RULES = [
    {
        "name": "Orders to their factory",
        "position": 10,
        "stop": True,
        "conditions": [{"kind": "regex", "value": r"(?P<ref>PO\d+)"}],
        "actions": [
            {"kind": "partner_by_reference", "value": "ref"},
            {"kind": "contact_role", "value": "production"},
            {"kind": "assign_team", "value": "desk"},
        ],
    },
    {
        "name": "Bespoke jewellery",
        "position": 20,
        "stop": True,
        "conditions": [{"kind": "keyword", "value": "custom, bespoke"}],
        "actions": [
            {"kind": "add_tag", "value": "bespoke"},
            {"kind": "set_workflow", "value": "bespoke-inquiry"},
            {"kind": "partner_by_specialization", "value": "Platinum Setting"},
            {"kind": "assign_team", "value": "desk"},
        ],
    },
]


def routing_demo_load(*, pool, admin) -> None:
    """Idempotent: running it again changes nothing."""
    from relay.choices import NumberKind
    from relay.models import ProxyNumber

    ProxyNumber.objects.get_or_create(
        e164=INTAKE[0],
        defaults={
            "pool": pool,
            "phone_number_id": INTAKE[1],
            "kind": NumberKind.INTAKE,
            "intake_workflow": "export-feedback",
        },
    )
    factory = Partner.objects.filter(code="factory-a").first() or partner_create(
        code="factory-a", name="Factory A", kind="factory", contacts=[FACTORY]
    )
    if not Partner.objects.filter(code="workshop-platinum").exists():
        partner_create(
            code="workshop-platinum",
            name="Workshop Platinum",
            kind="workshop",
            contacts=[WORKSHOP],
            specializations=["Platinum Setting"],
        )
    Reference.objects.get_or_create(code="PO1234", defaults={"partner": factory})
    team, _ = Team.objects.get_or_create(slug="desk", defaults={"name": "Desk"})
    agent, _ = Agent.objects.get_or_create(user=admin, defaults={"supervisor": True})
    agent.teams.add(team)
    for fields in RULES:
        Rule.objects.get_or_create(name=fields["name"], defaults=fields)
