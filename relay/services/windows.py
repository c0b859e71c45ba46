"""The 24-hour customer service window of each leg (contact, proxy number): free text waits
while it is closed, an approved template invites the recipient back, and what waited follows
once they write."""

from django.db import transaction
from django.utils import timezone

from relay.choices import EventKind, MessageStatus, Origin
from relay.models import WINDOW, Contact, Leg, MaskingPool, Message, MessageTemplate, ProxyNumber
from relay.pairs import pair_in
from relay.prefetch import prefetch_put, prefetch_take
from relay.queue import wake
from relay.selectors import contact_language, invitation_template
from relay.services.alerts import alert_raise
from relay.services.queueing import template_message_queue
from relay.texts import text_alias
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
    leg = prefetch_take("leg", (contact.pk, proxy_number.pk))
    if leg is None:
        leg, _ = Leg.objects.select_for_update().get_or_create(
            contact=contact, proxy_number=proxy_number
        )
    return leg


def legs_prefetch(pairs: set[tuple[int, int]]) -> None:
    """Lock the legs a round of inbound messages will need, in one query (relay/prefetch.py);
    they stay locked until the round's transaction ends, as leg_lock's do."""
    for pair, leg in legs_lock(pairs).items():
        prefetch_put("leg", pair, leg)


def legs_lock(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Leg]:
    """The legs of several (contact id, proxy number id) pairs, locked in one query, in the
    order of their ids (two rounds that want the same legs never wait on each other in a
    circle); a leg not there yet is made."""
    found = Leg.objects.select_for_update().filter(pair_in(Leg, pairs)).order_by("pk")
    legs = {(leg.contact_id, leg.proxy_number_id): leg for leg in found}
    for contact_id, proxy_number_id in sorted(pairs - legs.keys()):
        legs[contact_id, proxy_number_id] = Leg.objects.select_for_update().get_or_create(
            contact_id=contact_id, proxy_number_id=proxy_number_id
        )[0]
    return legs


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
        # Its source is not relayed after all: it waits with the fresh copy.
        Message.objects.filter(pk=message.source_id, status=MessageStatus.RELAYED).update(
            status=MessageStatus.PENDING
        )
        copy = {name: getattr(message, name) for name in COPIED_FIELDS}
        message = Message.objects.create(status=MessageStatus.SENDING, **copy)
    if leg.window_open():
        # They wrote after this send began, and that released what was held: go now.
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, next_attempt_at=None
        )
        wake()
        return
    message_hold_for_window(message, leg)


def message_hold_for_window(message: Message, leg: Leg) -> None:
    """Hold `message` (claimed, SENDING) until its recipient writes, and invite them back;
    the message says why it waits. The caller holds the leg's lock (leg_lock)."""
    reason = _invite_back(message, leg)
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.HELD, next_attempt_at=None, status_reason=reason
    )
    timeline_record(EventKind.MESSAGE_HELD, message=message)


def _invite_back(message: Message, leg: Leg) -> str:
    """One approved template per closed window, naming who wrote, never what they wrote.
    Returns why the message waits, in words."""
    closed = f"waiting: {_whose(message)} 24-hour window is closed"
    if _invited_since_they_wrote(leg):
        return f"{closed}; an invitation has asked them to reply"
    pool = message.session.pool if message.session_id else None
    language = contact_language(message.contact, pool)
    template = invitation_template(pool, language) if pool else None
    if template is None:
        return _no_template(message, pool, closed)
    others = message.session.participants.filter(active=True)
    sender = others.exclude(pk=message.participant_id).first()
    alias = text_alias(sender, language=language) if sender else message.session.external_ref
    values = [alias][: template.parameter_count]
    invitation = template_message_queue(
        to=message, template=template, values=values, origin=Origin.TEMPLATE
    )
    timeline_record(EventKind.WINDOW_TEMPLATE_QUEUED, message=invitation, template_id=template.pk)
    return f"{closed}; template {template} asks them to reply"


def _invited_since_they_wrote(leg: Leg) -> bool:
    already = Message.objects.filter(
        contact=leg.contact_id,
        proxy_number=leg.proxy_number_id,
        origin__in=(Origin.TEMPLATE, Origin.OPENING),  # an opening asks them to reply too
    ).exclude(status=MessageStatus.FAILED)
    if leg.last_inbound_at:
        already = already.filter(created_at__gt=leg.last_inbound_at)
    return already.exists()


def _no_template(message: Message, pool: MaskingPool | None, closed: str) -> str:
    """Nothing can reach the recipient: say so, and tell an operator which pool to fix."""
    if pool is None:
        return closed
    why = f"{_whose(message)} 24-hour window is closed"
    why += f" and pool {pool.name} has no approved template"
    session = message.session
    alert_raise(
        "window_template_missing",
        f"Session {session.external_ref} (#{session.pk}): messages wait because {why} "
        f"({_template_state(pool)}). Set an approved invitation template on the pool, or sync "
        "templates if one was approved in WhatsApp Manager.",
    )
    return f"waiting: {why}"


def _template_state(pool: MaskingPool) -> str:
    template = pool.notice_template
    if template is None:
        return "none is set"
    problem = template.invitation_problem()
    return problem or f"template {template} is {template.get_status_display().lower()}"


def _whose(message: Message) -> str:
    participant = message.participant
    role = participant.get_role_display().lower() if participant else "recipient"
    return f"the {role}'s"


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
            status=MessageStatus.QUEUED, next_attempt_at=None, status_reason=""
        )
        for message in Message.objects.filter(pk__in=held):
            timeline_record(EventKind.MESSAGE_RELEASED, message=message)
        wake()
    return held


def template_approved_again(*, template: MessageTemplate) -> int:
    """Invite back everyone whose messages waited while no template of this name could be
    sent; returns how many were invited."""
    held = (
        Message.objects.filter(
            status=MessageStatus.HELD,
            session__pool__notice_template__account=template.account,
            session__pool__notice_template__name=template.name,
        )
        .select_related("session__pool__notice_template", "participant", "contact")
        .order_by("id")
    )
    seen = set()
    for message in held:
        key = (message.contact_id, message.proxy_number_id)
        if key in seen:
            continue
        seen.add(key)
        with transaction.atomic():
            leg = leg_lock(contact=message.contact, proxy_number=message.proxy_number)
            reason = _invite_back(message, leg)
            Message.objects.filter(
                contact=message.contact_id,
                proxy_number=message.proxy_number_id,
                status=MessageStatus.HELD,
            ).update(status_reason=reason)
    return len(seen)
