"""The inbox's part of the demo data: an agent and a supervisor login, and one live example
of each of the four workflows, played through the relay as real messages would be (stored
as webhooks from simulated phones, then handled), so that every phone and thread shows what
it would show in production."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from relay.models import ProxyNumber, RelaySession
from relay.services.delivery import messages_send_due
from relay.services.mediation import held_forward
from relay.services.sessions import PartyInput, session_open
from relay.services.slots import slots_offer
from relay.services.webhooks import webhooks_process_due
from relay.simulator.phone import phone_send
from relay.timeline import SYSTEM, Actor
from routing.demo import INTAKE
from routing.models import Agent, Partner, Team
from routing.services.partners import PartnerContactInput, partner_create
from sla.engine import SETTLED_AFTER, clocks_follow_timeline

LOGINS = [("agent", False), ("supervisor", True)]  # the password is the username
PARENT = PartyInput(name="Priya", phone="+14155550124")
NANNY = PartnerContactInput(name="Rosa", phone="+447700900124", role="caregiver")
BUYER = ("Jonas", "+4915100000004")
CLIENT = ("Mia", "+447700900555")
CHILDCARE = "CC-2001"


def inbox_demo_logins() -> None:
    User = get_user_model()
    desk, _ = Team.objects.get_or_create(slug="desk", defaults={"name": "Desk"})
    for username, supervisor in LOGINS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=username)
        agent, _ = Agent.objects.get_or_create(user=user, defaults={"supervisor": supervisor})
        agent.teams.add(desk)


def inbox_demo_conversations(*, booking: RelaySession) -> None:
    """Idempotent: once the childcare example exists, nothing is played again."""
    if RelaySession.objects.filter(external_ref=CHILDCARE).exists():
        return
    desk = Team.objects.get(slug="desk")
    RelaySession.objects.filter(pk=booking.pk).update(team=desk)
    _say(booking, "customer", "Hello! Is the meeting room free tomorrow at 10:00 for 4 people?")
    _childcare(desk)
    intake = ProxyNumber.objects.get(e164=INTAKE[0])
    _write(*BUYER, intake, "PO1234: the stitching is loose on 20 pieces of the last shipment.")
    _write(*CLIENT, intake, "Hello, I would like a custom platinum ring with a 1 carat stone.")
    _handle()
    inquiry = RelaySession.objects.filter(workflow="bespoke-inquiry").order_by("-id").first()
    if inquiry is None:
        return
    held = inquiry.messages.filter(status="awaiting_agent").order_by("id").first()
    admin = Agent.objects.filter(supervisor=True).select_related("user").first()
    if held is not None and admin is not None:
        held_forward(session=inquiry, message_id=held.pk, actor=Actor.of_user(admin.user))
    _say(inquiry, "partner", "/quote 1200 EUR 10 days Platinum band, hand-set 1 ct stone")
    _say(inquiry, "customer", "Thanks! Could it be ready before the 20th? Call me: 07700 900555")
    _handle()


def _childcare(desk: Team) -> None:
    nanny = Partner.objects.filter(code="little-steps").first() or partner_create(
        code="little-steps", name="Little Steps Nannies", kind="caregiver", contacts=[NANNY]
    )
    session = session_open(
        external_ref=CHILDCARE,
        workflow="childcare-interview",
        customer=PARENT,
        partner=nanny,
        team=desk,
        booking_status="matched",
    )
    _say(session, "customer", "Hi Rosa, we would love to meet you. Which days suit you?")
    _handle()
    tomorrow = (timezone.localtime() + timedelta(days=1)).replace(minute=0, second=0)
    times = [tomorrow.replace(hour=10), tomorrow.replace(hour=15)]
    slots_offer(session=session, times=times, actor=SYSTEM)


def _say(session: RelaySession, role: str, text: str) -> None:
    side = session.participants.select_related("contact", "proxy_number").get(
        role=role, active=True
    )
    _write(side.name, side.contact.phone, side.proxy_number, text)


def _write(name: str, phone: str, number: ProxyNumber, text: str) -> None:
    phone_send(phone=phone, number=number, text=text, name=name)


def _handle() -> None:
    """As the worker would: the stored webhooks, then what they queued for the phones."""
    while webhooks_process_due(limit=50):
        pass
    while messages_send_due(limit=50):
        pass
    # Nothing else writes while the demo loads: its events need not settle first.
    clocks_follow_timeline(now=timezone.now() + SETTLED_AFTER)
