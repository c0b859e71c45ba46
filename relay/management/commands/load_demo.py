from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from relay.inbox.demo import inbox_demo_conversations, inbox_demo_logins
from relay.models import MaskingPool, MessageTemplate, ProxyNumber, RelaySession
from relay.providers.console_templates import INVITATION
from relay.services.contacts import contact_get_or_create
from relay.services.sessions import PartyInput, session_open
from relay.services.templates import templates_sync
from routing.choices import PartnerKind
from routing.demo import routing_demo_load
from routing.models import Partner, PartnerContact
from sla.demo import sla_demo_load

DEMO_LOGIN = ("admin", "admin")
NUMBERS = (("+15550001001", "1001"), ("+15550001002", "1002"))
PARTNER_CONTACT = PartyInput(name="Ana", phone="+447700900123")
CUSTOMER = PartyInput(name="Sam", phone="+14155550123")
BOOKING = "BK-1001"


class Command(BaseCommand):
    help = (
        "Load demo data for local work: an admin/admin login, an agent and a supervisor, a "
        "pool with two numbers and an intake number, partners with contacts, routing rules and "
        "a live session of each workflow. Running it again changes nothing."
    )

    def handle(self, *args, **options) -> None:
        # The demo login has a well-known password: never on a server.
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates an admin/admin login: it runs only with DEBUG=true"
            )
        if settings.RELAY_PROVIDER != "console":
            raise CommandError(
                "load_demo fills in demo numbers: run it with RELAY_PROVIDER=console"
            )
        with transaction.atomic():
            self._load()
        # Played as phones would write, each message handled in its own transactions.
        inbox_demo_conversations(booking=RelaySession.objects.get(external_ref=BOOKING))
        self.stdout.write(
            f"Demo data ready: logins {DEMO_LOGIN[0]} / {DEMO_LOGIN[1]} (sees real numbers), "
            "agent / agent and supervisor / supervisor (masked); one session of each "
            f"workflow, {BOOKING} between {CUSTOMER.name} ({CUSTOMER.phone}) and "
            f"{PARTNER_CONTACT.name} ({PARTNER_CONTACT.phone}) among them."
        )

    def _load(self) -> None:
        username, password = DEMO_LOGIN
        User = get_user_model()
        admin = User.objects.filter(username=username).first() or User.objects.create_superuser(
            username=username, email="", password=password
        )
        # The console provider's own catalogue stands in for WhatsApp Manager's.
        templates_sync()
        template = MessageTemplate.objects.get(name=INVITATION, language="en_US")
        pool, _ = MaskingPool.objects.get_or_create(
            name="default", defaults={"notice_template": template}
        )
        for e164, phone_number_id in NUMBERS:
            ProxyNumber.objects.get_or_create(
                e164=e164, defaults={"pool": pool, "phone_number_id": phone_number_id}
            )
        partner, _ = Partner.objects.get_or_create(
            code="loc-a", defaults={"name": "Downtown Hub", "kind": PartnerKind.LOCATION}
        )
        contact = contact_get_or_create(phone=PARTNER_CONTACT.phone, name=PARTNER_CONTACT.name)
        PartnerContact.objects.get_or_create(
            partner=partner,
            contact=contact,
            defaults={"name": PARTNER_CONTACT.name, "role": "manager"},
        )
        routing_demo_load(pool=pool, admin=admin)
        sla_demo_load()
        inbox_demo_logins()
        if not RelaySession.objects.filter(external_ref=BOOKING).exists():
            session_open(
                external_ref=BOOKING,
                workflow="booking",
                mode="direct",
                customer=CUSTOMER,
                partner=partner,
                pool=pool,
                booking_status="requested",
            )
