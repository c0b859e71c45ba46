"""Opening, closing and expiring relay sessions, and giving participants proxy numbers."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from relay.choices import (
    LIVE_SESSION_STATUSES,
    Direction,
    EventKind,
    MessageStatus,
    NumberKind,
    Origin,
    Role,
    SessionMode,
    SessionStatus,
)
from relay.exceptions import PoolExhausted, RelayError, SessionNotLive
from relay.models import Contact, MaskingPool, Message, Participant, ProxyNumber, RelaySession
from relay.queue import wake
from relay.selectors import session_find_live
from relay.services.contacts import contact_get_or_create
from relay.services.delivery import messages_cancel_for_session
from relay.services.handovers import handovers_end_on_reroute
from relay.timeline import SYSTEM, Actor, timeline_record
from routing.models import Partner, PartnerContact

TAG_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed back
ALLOCATION_ATTEMPTS = 3
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class PartyInput:
    name: str
    phone: str
    language: str = ""


def session_open(**kwargs) -> RelaySession:
    """Open a session between a customer and a partner's contact, each with a proxy number.

    All or nothing: if a number cannot be given (pool exhausted with multiplexing off), no
    row is left behind, not even the customer's new contact.
    """
    return session_open_or_get(reuse_live=False, **kwargs)[0]


@transaction.atomic
def session_open_or_get(
    *,
    external_ref: str,
    workflow: str,
    mode: str = SessionMode.DIRECT,
    customer: PartyInput | Contact,
    partner: Partner | None,
    partner_contact: PartnerContact | None = None,
    pool: MaskingPool | None = None,
    ttl: timedelta | None = None,
    reuse_live: bool = True,
    actor: Actor = SYSTEM,
    customer_number: ProxyNumber | None = None,
    **fields,
) -> tuple[RelaySession, bool]:
    """As session_open; but when this booking's session between the same customer and
    partner is still live, return it (and False) instead: a client that retries must not
    end up with two sessions holding two pairs of numbers.

    `customer`: who and how to call them, or (intake) the contact who wrote, called by an
    alias. `customer_number`: the number the customer wrote to (an intake number), theirs in
    this session. With it, `partner` may be None: the session waits in triage for one. `fields`:
    more of the session's own (booking status, team, tags...)."""
    if partner is None and customer_number is None:
        raise RelayError("a session needs a partner", field="partner")
    pool = pool or (customer_number.pool if customer_number else _pool_for(partner))
    if partner and pool.partner_id and pool.partner_id != partner.pk:
        raise RelayError(f"pool '{pool.name}' is reserved for another partner", field="pool")
    if isinstance(customer, Contact):
        # A WhatsApp profile name is the writer's own text: the other side sees an alias.
        customer_contact, customer_name = customer, ""
    else:
        customer_contact = contact_get_or_create(
            phone=customer.phone, name=customer.name, language=customer.language
        )
        customer_name = customer.name
    parties = [(Role.CUSTOMER, customer_name, customer_contact)]
    if partner is not None:
        partner_contact = partner_contact or partner.contacts.select_related("contact").first()
        if partner_contact is None:
            raise RelayError(f"partner '{partner.code}' has no contacts", field="partner")
        if partner_contact.partner_id != partner.pk:
            raise RelayError("contact does not belong to this partner", field="partner_contact")
        if customer_contact.pk == partner_contact.contact_id:
            raise RelayError("customer and partner contact are the same person", field="customer")
        parties.append((Role.PARTNER, partner_contact.name, partner_contact.contact))
    numbers = {Role.CUSTOMER: customer_number} if customer_number else {}
    ttl = ttl or timedelta(hours=settings.RELAY_SESSION_TTL_HOURS)
    for attempt in range(ALLOCATION_ATTEMPTS):
        try:
            with transaction.atomic():
                _lock(parties)
                live = reuse_live and session_find_live(
                    external_ref=external_ref, partner=partner, customer=customer_contact
                )
                if live:
                    return live, False
                opened = _open(
                    external_ref,
                    workflow,
                    mode,
                    pool,
                    partner,
                    parties,
                    ttl,
                    actor,
                    numbers,
                    fields,
                )
                return opened, True
        except IntegrityError:
            # A concurrent session took the same pair first; the constraint refused ours.
            if attempt == ALLOCATION_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _lock(parties) -> None:
    """Lock the contacts, so that two sessions for one person are opened one after the
    other. no_key: messages and legs written for them meanwhile are not blocked."""
    contact_ids = sorted(contact.pk for _, _, contact in parties)
    locked = Contact.objects.select_for_update(no_key=True).filter(pk__in=contact_ids)
    list(locked.order_by("pk"))


def _open(
    external_ref, workflow, mode, pool, partner, parties, ttl, actor, numbers, fields
) -> RelaySession:
    now = timezone.now()
    session = RelaySession.objects.create(
        external_ref=external_ref,
        workflow=workflow,
        mode=mode,
        pool=pool,
        partner=partner,
        ttl=ttl,
        expires_at=now + ttl,
        **fields,
    )
    timeline_record(EventKind.SESSION_OPENED, session=session, actor=actor, pool_id=pool.pk)
    for role, name, contact in parties:
        _expire_lapsed_sessions_of(contact, now)
        if role in numbers:  # the number they wrote to, shared with whoever else writes to it
            number, multiplexed = numbers[role], False
        else:
            number, multiplexed = _allocate(pool, contact)
        if multiplexed:  # the sessions already on this number now share it too
            Participant.objects.filter(contact=contact, proxy_number=number, active=True).update(
                multiplexed=True
            )
        Participant.objects.create(
            session=session,
            role=role,
            name=name,
            contact=contact,
            proxy_number=number,
            multiplexed=multiplexed,
            thread_tag=_free_tag(contact, number),
        )
        timeline_record(
            EventKind.PARTICIPANT_BOUND,
            session=session,
            role=role,
            proxy_number_id=number.pk,
            multiplexed=multiplexed,
        )
    return session


def _pool_for(partner: Partner) -> MaskingPool:
    pool = MaskingPool.objects.filter(partner=partner).order_by("pk").first()
    pool = pool or MaskingPool.objects.filter(partner__isnull=True).order_by("pk").first()
    if pool is None:
        raise RelayError("no masking pool is configured", field="pool")
    return pool


def _allocate(pool: MaskingPool, contact: Contact) -> tuple[ProxyNumber, bool]:
    """A number of `pool` that `contact` holds in no live session; else, with multiplexing,
    the number on which it has the fewest live sessions."""
    numbers = pool.numbers.filter(active=True, kind=NumberKind.RELAY).annotate(
        held=Count(
            "participants", filter=Q(participants__contact=contact, participants__active=True)
        )
    )
    ordered = sorted(numbers, key=lambda n: (n.held, n.pk))
    if not ordered:
        raise PoolExhausted(f"pool '{pool.name}' has no active relay numbers", field="pool")
    best = ordered[0]
    if best.held == 0:
        return best, False
    if not pool.multiplexing:
        raise PoolExhausted(
            f"pool '{pool.name}' has no number left for this contact "
            f"({len(ordered)} numbers, all in use by their other sessions)",
            field="pool",
        )
    return best, True


def _free_tag(contact: Contact, number: ProxyNumber) -> str:
    taken = set(
        Participant.objects.filter(contact=contact, proxy_number=number, active=True).values_list(
            "thread_tag", flat=True
        )
    )
    while True:
        tag = "".join(secrets.choice(TAG_ALPHABET) for _ in range(4))
        if tag not in taken:
            return tag


def _expire_lapsed_sessions_of(contact: Contact, now) -> None:
    lapsed = RelaySession.objects.filter(
        participants__contact=contact,
        participants__active=True,
        status__in=LIVE_SESSION_STATUSES,
        expires_at__lte=now,
    )
    for session in lapsed:
        session_expire(session=session)


def session_end(
    *, session: RelaySession, status: str, reason: str = "", actor: Actor = SYSTEM
) -> RelaySession:
    """Close or expire a live session, free its (contact, number) pairs and cancel what
    still waited to be sent in it."""
    if status not in (SessionStatus.CLOSED, SessionStatus.EXPIRED):
        raise ValueError(status)
    now = timezone.now()
    live = RelaySession.objects.filter(pk=session.pk, status__in=LIVE_SESSION_STATUSES)
    if status == SessionStatus.EXPIRED:
        live = live.filter(expires_at__lte=now)  # an interaction may just have renewed it
    with transaction.atomic():
        if not live.update(status=status, closed_at=now, closed_reason=reason):
            session.refresh_from_db()
            raise SessionNotLive(f"session is already {session.get_status_display().lower()}")
        session.participants.update(active=False)
        cancelled = messages_cancel_for_session(session=session)
        session.refresh_from_db()
        kind = (
            EventKind.SESSION_CLOSED
            if status == SessionStatus.CLOSED
            else EventKind.SESSION_EXPIRED
        )
        timeline_record(kind, session=session, actor=actor, cancelled=cancelled)
    return session


def session_expire(*, session: RelaySession) -> bool:
    """Expire a session whose idle time ran out; False if it was renewed or ended meanwhile."""
    try:
        session_end(session=session, status=SessionStatus.EXPIRED, reason="idle too long")
    except SessionNotLive:
        return False
    return True


def session_flag(
    *, session: RelaySession, tag: str, actor: Actor = SYSTEM, priority: str = ""
) -> None:
    """Tag `session` (once, on the timeline) and, when given, set its priority."""
    changes = {"priority": priority} if priority else {}
    session.tags = RelaySession.objects.values_list("tags", flat=True).get(pk=session.pk)
    if tag not in session.tags:
        changes["tags"] = session.tags = [*session.tags, tag]
    if changes:
        RelaySession.objects.filter(pk=session.pk).update(**changes)
        session.priority = priority or session.priority
    if "tags" in changes:
        timeline_record(EventKind.SESSION_TAGGED, session=session, actor=actor, tag=tag)


def session_close(
    *, session: RelaySession, reason: str = "", actor: Actor = SYSTEM
) -> RelaySession:
    return session_end(
        session=session, status=SessionStatus.CLOSED, reason=reason or "closed", actor=actor
    )


def session_reopen(*, session: RelaySession, actor: Actor = SYSTEM) -> RelaySession:
    """Reopen a closed or expired session, if its pairs are still free."""
    if session.status in LIVE_SESSION_STATUSES:
        raise SessionNotLive("session is already open")
    try:
        with transaction.atomic():
            session.participants.filter(rerouted_at__isnull=True).update(active=True)
            session.status = SessionStatus.ACTIVE
            session.expires_at = timezone.now() + session.ttl
            session.closed_at = None
            session.save(update_fields=["status", "expires_at", "closed_at"])
            timeline_record(EventKind.SESSION_REOPENED, session=session, actor=actor)
    except IntegrityError as exc:
        raise SessionNotLive("a participant's number is now used by another live session") from exc
    return session


@transaction.atomic
def session_reroute(
    *,
    session: RelaySession,
    partner: Partner,
    partner_contact: PartnerContact | None = None,
    actor: Actor = SYSTEM,
    to_another_contact: bool = False,
) -> Participant:
    """Move a live session to another partner (or give one to a session in triage; with
    `to_another_contact`, to another contact of the same partner): the customer keeps their
    number, the old partner contact stops receiving it, and the new one gets a number of the
    session's pool. The new partner participant."""
    session = RelaySession.objects.select_for_update().get(pk=session.pk)
    if not session.is_live():
        raise SessionNotLive("the session is closed or expired; reopen it first")
    if session.partner_id == partner.pk and not to_another_contact:
        raise RelayError(f"the session is with {partner.code} already", field="partner")
    if not partner.active:
        raise RelayError(f"partner {partner.code} is not active", field="partner")
    if session.pool.partner_id and session.pool.partner_id != partner.pk:
        raise RelayError(f"pool '{session.pool.name}' is reserved for another partner")
    partner_contact = partner_contact or partner.contacts.select_related("contact").first()
    if partner_contact is None:
        raise RelayError(f"partner '{partner.code}' has no contacts", field="partner")
    if session.participants.filter(
        role=Role.PARTNER, active=True, contact=partner_contact.contact_id
    ).exists():
        raise RelayError(f"{partner_contact.name} has the session already", field="partner")
    old_ids = list(
        session.participants.filter(role=Role.PARTNER, active=True).values_list("pk", flat=True)
    )
    moved_from = session.partner_id
    Participant.objects.filter(pk__in=old_ids).update(active=False, rerouted_at=timezone.now())
    number, multiplexed = _allocate(session.pool, partner_contact.contact)
    if multiplexed:
        Participant.objects.filter(
            contact=partner_contact.contact, proxy_number=number, active=True
        ).update(multiplexed=True)
    participant = Participant.objects.create(
        session=session,
        role=Role.PARTNER,
        name=partner_contact.name,
        contact=partner_contact.contact,
        proxy_number=number,
        multiplexed=multiplexed,
        thread_tag=_free_tag(partner_contact.contact, number),
    )
    moved = _hand_over_waiting(old_ids, participant)
    session.partner = partner
    session.save(update_fields=["partner"])
    timeline_record(
        EventKind.SESSION_ROUTED,
        session=session,
        actor=actor,
        partner_id=partner.pk,
        from_partner_id=moved_from,
        proxy_number_id=number.pk,
        moved=moved,
    )
    handovers_end_on_reroute(session=session, actor=actor)
    return participant


def _hand_over_waiting(old_ids: list[int], new: Participant) -> int:
    """What waited to go to the old partner contact goes to the new one instead (copies of
    the customer's messages, the aggregator's own); what was for that contact alone (an
    invitation, a notice) is not sent. How many were moved."""
    waiting = Message.objects.filter(
        participant__in=old_ids,
        direction=Direction.OUTBOUND,
        status__in=[MessageStatus.QUEUED, MessageStatus.HELD],
    )
    moved = waiting.filter(origin__in=[Origin.RELAYED, Origin.API]).update(
        participant=new,
        contact=new.contact,
        proxy_number=new.proxy_number,
        status=MessageStatus.QUEUED,
        next_attempt_at=None,
        status_reason="",
    )
    waiting.update(
        status=MessageStatus.FAILED,
        failed_at=timezone.now(),
        error_message="the session went to another partner before it was sent",
    )
    if moved:
        wake()
    return moved


def session_touch(*, session: RelaySession) -> bool:
    """Record an interaction: the idle timer starts again. False if the session ended. A
    session just loaded as touched less than a minute ago is not written again: its idle
    time, days long, is kept to within that minute."""
    now = timezone.now()
    recently = session.last_interaction_at and now - session.last_interaction_at < TOUCH_EVERY
    if recently and session.status == SessionStatus.ACTIVE and session.expires_at > now:
        return True
    touched = RelaySession.objects.filter(pk=session.pk, status__in=LIVE_SESSION_STATUSES).update(
        last_interaction_at=now, expires_at=now + session.ttl, status=SessionStatus.ACTIVE
    )
    if touched:
        session.last_interaction_at, session.expires_at = now, now + session.ttl
        session.status = SessionStatus.ACTIVE
    return bool(touched)


def sessions_expire_lapsed() -> int:
    lapsed = RelaySession.objects.filter(
        status__in=LIVE_SESSION_STATUSES, expires_at__lte=timezone.now()
    )
    return sum(session_expire(session=session) for session in lapsed)
