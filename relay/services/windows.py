"""The 24-hour customer service window of each leg (contact, proxy number): free text waits
while it is closed, an approved template invites the recipient back, and what waited follows
once they write."""

from django.db import transaction
from django.utils import timezone

from relay.choices import Direction, EventKind, MessageStatus, Origin, TemplateStatus
from relay.models import WINDOW, Contact, Leg, Message, MessageTemplate, ProxyNumber
from relay.queue import enqueue
from relay.services.alerts import alert_raise
from relay.timeline import timeline_record

# What a held copy keeps of the message that WhatsApp refused.
COPIED_FIELDS = (
    "session",
    "participant",
    "direction",
    "origin",
    "contact",
    "proxy_number",
    "type",
    "body",
    "payload",
    "source",
    "reply_to",
)


def leg_lock(*, contact: Contact, proxy_number: ProxyNumber) -> Leg:
    """The leg, locked until the transaction ends. Whoever changes its window or holds a
    message on it takes this lock, so a release never misses a message being held."""
    leg, _ = Leg.objects.select_for_update().get_or_create(
        contact=contact, proxy_number=proxy_number
    )
    return leg


@transaction.atomic
def leg_window_closed(message: Message) -> None:
    """WhatsApp says the window is closed (131047): hold the message and invite them back."""
    leg = leg_lock(contact=message.contact, proxy_number=message.proxy_number)
    started = message.sending_started_at or timezone.now()
    if leg.last_inbound_at and leg.last_inbound_at < started:
        # Closed as of the send; "since they last wrote" still dates the next invitation.
        leg.last_inbound_at = min(leg.last_inbound_at, started - WINDOW)
        Leg.objects.filter(pk=leg.pk).update(last_inbound_at=leg.last_inbound_at)
    if message.provider_message_id:
        # WhatsApp took it and refused it afterwards: that one failed, a fresh copy waits.
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.FAILED,
            failed_at=timezone.now(),
            error_code=131047,
            error_message="recipient's 24-hour window was closed; a copy waits for them",
        )
        if message.session_id and not message.session.is_live():
            return  # nobody to wait for any more
        copy = {name: getattr(message, name) for name in COPIED_FIELDS}
        message = Message.objects.create(status=MessageStatus.SENDING, **copy)
    if leg.window_open():
        # They wrote after this send began, and that released what was held: go now.
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, next_attempt_at=None
        )
        enqueue("relay.tasks.deliver_message", message.pk)
        return
    message_hold_for_window(message, leg)


def message_hold_for_window(message: Message, leg: Leg) -> None:
    """Hold `message` (claimed, SENDING) until its recipient writes, and invite them back.
    The caller holds the leg's lock (leg_lock)."""
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.HELD, next_attempt_at=None)
    timeline_record(EventKind.MESSAGE_HELD, message=message)
    _queue_invitation(message, leg)


def _queue_invitation(message: Message, leg: Leg) -> None:
    """One approved template per closed window, naming who wrote, never what they wrote."""
    already = Message.objects.filter(
        contact=leg.contact_id, proxy_number=leg.proxy_number_id, origin=Origin.TEMPLATE
    ).exclude(status=MessageStatus.FAILED)
    if leg.last_inbound_at:
        already = already.filter(created_at__gt=leg.last_inbound_at)
    if already.exists():
        return
    template = message.session.pool.notice_template if message.session_id else None
    if template is None or template.status != TemplateStatus.APPROVED:
        alert_raise(
            "window_template_missing",
            "A message is waiting for a recipient whose 24-hour window is closed, and the pool "
            "has no approved template to invite them back.",
        )
        return
    sender = message.session.participants.exclude(pk=message.participant_id).first()
    parameters = (
        [sender.alias if sender else "Switchboard"] if template.has_sender_parameter else []
    )
    invitation = Message.objects.create(
        direction=Direction.OUTBOUND,
        origin=Origin.TEMPLATE,
        session=message.session,
        participant=message.participant,
        contact=message.contact,
        proxy_number=message.proxy_number,
        type="template",
        payload={"name": template.name, "language": template.language, "parameters": parameters},
        status=MessageStatus.QUEUED,
    )
    timeline_record(EventKind.WINDOW_TEMPLATE_QUEUED, message=invitation, template_id=template.pk)
    enqueue("relay.tasks.deliver_message", invitation.pk)


def leg_window_opened(*, leg: Leg) -> list[int]:
    """The recipient wrote: release what was held for them, oldest first. The caller holds
    the leg's lock (leg_lock)."""
    held = list(
        Message.objects.filter(
            contact=leg.contact_id, proxy_number=leg.proxy_number_id, status=MessageStatus.HELD
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    if held:
        Message.objects.filter(pk__in=held).update(
            status=MessageStatus.QUEUED, next_attempt_at=None
        )
        for message in Message.objects.filter(pk__in=held):
            timeline_record(EventKind.MESSAGE_RELEASED, message=message)
        enqueue("relay.tasks.deliver_in_order", held)
    return held


def template_approved_again(*, template: MessageTemplate) -> int:
    """Invite back everyone whose messages waited while the template could not be sent."""
    seen = set()
    for message in (
        Message.objects.filter(status=MessageStatus.HELD, session__pool__notice_template=template)
        .select_related("session__pool__notice_template")
        .order_by("id")
    ):
        key = (message.contact_id, message.proxy_number_id)
        if key in seen:
            continue
        seen.add(key)
        with transaction.atomic():
            leg = leg_lock(contact=message.contact, proxy_number=message.proxy_number)
            _queue_invitation(message, leg)
    return len(seen)
