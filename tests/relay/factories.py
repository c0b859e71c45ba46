import factory

from relay.choices import Direction, MessageStatus, Origin
from relay.models import MaskingPool, Message, MessageTemplate, ProxyNumber
from relay.services.contacts import contact_get_or_create
from routing.models import Partner, PartnerContact


class TemplateFactory(factory.django.DjangoModelFactory):
    """An approved invitation as a sync from WhatsApp would store it."""

    class Meta:
        model = MessageTemplate
        django_get_or_create = ("account", "name", "language")

    account = "WABA1"  # WHATSAPP_BUSINESS_ACCOUNT_ID in the test settings
    name = "new_message_notice"
    language = "en_US"
    category = "UTILITY"
    body = "Hello! You have a new message from {{1}}. Reply to read it."
    parameter_names = factory.LazyFunction(lambda: ["1"])


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaskingPool

    name = factory.Sequence(lambda n: f"pool-{n}")
    notice_template = factory.SubFactory(TemplateFactory)


class ProxyNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProxyNumber

    pool = factory.SubFactory(PoolFactory)
    e164 = factory.Sequence(lambda n: f"+1555000{1001 + n}")
    phone_number_id = factory.Sequence(lambda n: f"{1001 + n}")


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    code = factory.Sequence(lambda n: f"loc-{n}")
    name = factory.Sequence(lambda n: f"Downtown Hub {n}")
    kind = "location"


def partner_with_contact(phone: str, *, contact_name: str = "Ana", **partner_fields) -> Partner:
    partner = PartnerFactory(**partner_fields)
    PartnerContact.objects.create(
        partner=partner,
        contact=contact_get_or_create(phone=phone),
        name=contact_name,
        role="manager",
    )
    return partner


class InboundMessageFactory(factory.django.DjangoModelFactory):
    """A text a participant wrote, as the webhook stores it; pass `participant`."""

    class Meta:
        model = Message

    participant = None
    session = factory.LazyAttribute(lambda m: m.participant.session if m.participant else None)
    contact = factory.LazyAttribute(lambda m: m.participant.contact)
    proxy_number = factory.LazyAttribute(lambda m: m.participant.proxy_number)
    direction = Direction.INBOUND
    origin = Origin.PARTICIPANT
    type = "text"
    body = "hello"
    payload = factory.LazyAttribute(lambda m: {"type": "text", "text": {"body": m.body}})
    status = MessageStatus.RECEIVED


class OutboundMessageFactory(factory.django.DjangoModelFactory):
    """A message to `participant` (by default a relayed copy of `source`)."""

    class Meta:
        model = Message

    participant = None
    session = factory.LazyAttribute(lambda m: m.participant.session)
    contact = factory.LazyAttribute(lambda m: m.participant.contact)
    proxy_number = factory.LazyAttribute(lambda m: m.participant.proxy_number)
    direction = Direction.OUTBOUND
    origin = Origin.RELAYED
    type = "text"
    body = "hello"
    status = MessageStatus.QUEUED
