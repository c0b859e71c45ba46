"""Delivering queued messages: claimed once, paced per conversation, sent through the
provider, retried with backoff, failed visibly when nothing more can be done."""

import functools
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, Min, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from relay import payloads
from relay.choices import (
    MEDIA_TYPES,
    Direction,
    EventKind,
    MessageStatus,
    MessageType,
    Origin,
    TextKey,
)
from relay.inserts import update_each
from relay.media import MediaProblem, media_problem
from relay.models import Leg, Message, ProxyNumber
from relay.providers import get_provider
from relay.providers.base import Failure, Provider, ProviderError
from relay.services.holds import outbound_halt, outbound_held
from relay.services.queueing import notice_send
from relay.services.windows import (
    leg_lock,
    leg_window_closed,
    legs_lock,
    message_hold_for_window,
)
from relay.timeline import timeline_batch, timeline_record

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 15 * 60
# What may still fail: not what was delivered or read, nor what failed already.
FAILABLE = (
    MessageStatus.QUEUED,
    MessageStatus.HELD,
    MessageStatus.SENDING,
    MessageStatus.UNCERTAIN,
    MessageStatus.SENT,
)


def messages_send_due(*, limit: int) -> int:
    """Claim up to `limit` due messages and send them as one round; how many were claimed.
    A message is never sent while an earlier one of its conversation (person and number)
    waits for a retry or is being sent, whichever worker holds it; the messages of one
    conversation in a round go one after the other. Nothing is claimed while all sending is
    paused."""
    if outbound_held():
        return 0
    messages = _claim(_due(), limit)
    if messages:
        _deliver(messages)
    return len(messages)


def message_deliver(message_id: int) -> None:
    """Send one queued message if it is due. Safe to call any number of times: it is sent at
    most once."""
    if outbound_held():
        return
    messages = _claim(_due().filter(pk=message_id), 1)
    if messages:
        _deliver(messages)


def _due():
    now = timezone.now()
    is_due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    waits = Q(status=MessageStatus.QUEUED, next_attempt_at__gt=now)
    held_back = _in_line().filter(
        Q(status=MessageStatus.SENDING) | waits,
        contact=OuterRef("contact"),
        proxy_number=OuterRef("proxy_number"),
        pk__lt=OuterRef("pk"),
    )
    return (
        Message.objects.filter(direction=Direction.OUTBOUND, status=MessageStatus.QUEUED)
        .filter(is_due)
        # An invitation goes ahead of what waits for its answer.
        .filter(Q(origin=Origin.TEMPLATE) | ~Exists(held_back))
        .order_by("id")
    )


def _in_line():
    """Outbound messages that keep their conversation's order: all but invitations."""
    return Message.objects.filter(
        direction=Direction.OUTBOUND, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
    ).exclude(origin=Origin.TEMPLATE)


def _claim(due, limit: int) -> list[Message]:
    """QUEUED -> SENDING for the rows this worker takes; others skip them."""
    now = timezone.now()
    with transaction.atomic():
        locked = list(
            due.select_for_update(skip_locked=True).values_list(
                "id", "origin", "contact", "proxy_number"
            )[:limit]
        )
        ids = _first_in_line(locked)
        Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENDING, sending_started_at=now
        )
    return list(
        Message.objects.filter(pk__in=ids)
        # What every send needs; what only a failure or a hold needs is read when it comes.
        .select_related("contact", "proxy_number", "session", "reply_to", "source__participant")
        .order_by("id")
    )


def _first_in_line(locked: list[tuple]) -> list[int]:
    """The ids of `locked` (id, origin, contact, number) that no message outside them comes
    before in their conversation: one another worker holds, or one not claimed with them."""
    if not locked:
        return []
    ids = [id_ for id_, *_ in locked]
    contacts = {contact for _, _, contact, _ in locked}
    numbers = {number for _, _, _, number in locked}
    outside = (
        _in_line()
        .filter(contact__in=contacts, proxy_number__in=numbers, pk__lt=max(ids))
        .exclude(pk__in=ids)
        .order_by()
        .values_list("contact", "proxy_number")
        .annotate(first=Min("id"))
    )
    first_outside = {(contact, number): first for contact, number, first in outside}
    return [
        id_
        for id_, origin, contact, number in locked
        if origin == Origin.TEMPLATE or id_ < first_outside.get((contact, number), id_ + 1)
    ]


def _deliver(messages: list[Message]) -> None:
    """Send a round of claimed (SENDING) messages and record what came of each."""
    now = messages[0].sending_started_at
    live = []
    for message in messages:
        if message.session_id and not message.session.is_live() and message.origin != Origin.NOTICE:
            message_fail(
                message=message,
                code=None,
                reason="the session ended first",
                notify=False,
                only_from=(MessageStatus.SENDING,),
            )
        else:
            live.append(message)
    outcomes = _send_all(_ready_to_send(live, now))
    accepted = [(message, outcome) for message, outcome in outcomes if isinstance(outcome, str)]
    if accepted:
        _mark_accepted(accepted)
    for message, outcome in outcomes:
        if isinstance(outcome, ProviderError):
            _handle_failure(message, outcome)
        elif outcome is None:  # not tried: it waits behind an earlier one, or for the pause
            _requeue(message, at=None, untried=True)


def _ready_to_send(messages: list[Message], now) -> list[Message]:
    """The messages that may go now, each with a pacing token taken and its attempt counted;
    the others are put back (a backoff, pacing) or held (a closed window). One transaction,
    the round's legs locked together."""
    if not messages:
        return []
    with transaction.atomic():
        legs = legs_lock({(message.contact_id, message.proxy_number_id) for message in messages})
        ready = [message for message in messages if _may_go(message, legs, now)]
        spent = {message.leg.pk: message.leg.tokens for message in ready}
        if spent:
            update_each(Leg, "tokens", spent, tokens_at=now)
        # Counted before any call, so that media that never downloads still runs out of tries.
        Message.objects.filter(pk__in=[message.pk for message in ready]).update(
            attempts=F("attempts") + 1
        )
    for message in ready:
        message.attempts += 1
    return ready


def _may_go(message: Message, legs: dict, now) -> bool:
    """True if the message may be sent now (a token is taken); else it is put back or held."""
    number = message.proxy_number
    message.leg = leg = legs[(message.contact_id, message.proxy_number_id)]
    if number.backoff_until and number.backoff_until > now:
        _requeue(message, at=number.backoff_until)
        return False
    if message.type != MessageType.TEMPLATE and not leg.window_open(now):  # a template may go
        message_hold_for_window(message, leg)
        return False
    if leg.backoff_until and leg.backoff_until > now:
        _requeue(message, at=leg.backoff_until)
        return False
    ready_at = _take_pair_token(leg, now)
    if ready_at is not None:
        _requeue(message, at=ready_at)
        return False
    return True


def _take_pair_token(leg: Leg, now):
    """A token bucket per leg: short bursts pass, a long burst is spread out. Returns None
    when a token was taken (the caller saves the leg), else when the next one will be there."""
    burst = settings.RELAY_PAIR_BURST
    interval = settings.RELAY_PAIR_INTERVAL_SECONDS
    if leg.tokens_at is None:
        tokens = float(burst)
    else:
        elapsed = (now - leg.tokens_at).total_seconds()
        tokens = min(float(burst), leg.tokens + elapsed / interval)
    if tokens < 1:
        return now + timedelta(seconds=(1 - tokens) * interval)
    leg.tokens, leg.tokens_at = tokens - 1, now
    return None


def _send_all(messages: list[Message]) -> list[tuple[Message, str | ProviderError | None]]:
    """Send the round, several conversations at a time where the provider allows. Each
    outcome is WhatsApp's id for the message, the error, or None when it was not tried: an
    earlier message of its conversation did not go, or sending was paused meanwhile.
    Nothing here touches the database."""
    conversations: dict = {}
    for message in messages:
        alone = message.origin == Origin.TEMPLATE
        key = message.pk if alone else (message.contact_id, message.proxy_number_id)
        conversations.setdefault(key, []).append(message)
    paused = threading.Event()
    concurrency = settings.RELAY_SEND_CONCURRENCY if get_provider().sends_in_parallel else 1
    if concurrency <= 1 or len(conversations) <= 1:
        done = [_send_in_order(each, paused) for each in conversations.values()]
    else:
        send = functools.partial(_send_in_order, paused=paused)
        done = _senders(concurrency).map(send, conversations.values())
    return [outcome for each in done for outcome in each]


def _send_in_order(messages: list[Message], paused: threading.Event) -> list[tuple]:
    """One conversation's messages, one after the other, until one does not go."""
    outcomes, sent = [], {}
    for message in messages:
        if outcomes and not isinstance(outcomes[-1][1], str):
            outcomes.append((message, None))
            continue
        # A reply to a message sent just before it in this round quotes it by the new id.
        context_id = _context_id(message) or sent.get(message.reply_to_id)
        outcome = _attempt(message, context_id, paused)
        if isinstance(outcome, str):
            sent[message.pk] = outcome
        outcomes.append((message, outcome))
    return outcomes


@functools.cache
def _senders(concurrency: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(concurrency, thread_name_prefix="send")


def _attempt(message: Message, context_id: str | None, paused: threading.Event):
    if paused.is_set():
        return None
    provider = get_provider()
    try:
        media_id = _prepare_media(message, provider)
        payload = payloads.build(message, media_id=media_id, context_id=context_id)
        return provider.send(phone_number_id=message.proxy_number.phone_number_id, payload=payload)
    except ProviderError as error:
        if error.failure is Failure.HALT:
            paused.set()  # what has not started yet waits with the rest
        return error
    except Exception:
        # Nothing went out (WhatsApp's errors are ProviderErrors): try again later, counted.
        logger.exception("sending message %s failed before it reached WhatsApp", message.pk)
        return ProviderError("internal error", failure=Failure.TRANSIENT)


def _requeue(
    message: Message, *, at, error: ProviderError | None = None, untried: bool = False
) -> None:
    """Back in the queue, due `at`; a failed attempt leaves its error to say why it waits.
    An attempt counted for a send that never started (`untried`) is taken back."""
    fields = {"status": MessageStatus.QUEUED, "next_attempt_at": at}
    if error is not None:
        fields |= {"error_code": error.code, "error_message": error.message}
    if untried:
        fields["attempts"] = F("attempts") - 1
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(**fields)


def _prepare_media(message: Message, provider: Provider) -> str | None:
    """Download from the number that received it, upload to the number that sends it."""
    if message.type not in MEDIA_TYPES:
        return None
    data = message.payload
    media = provider.download_media(
        media_id=data["media_id"], phone_number_id=data["from_phone_number_id"]
    )
    if data.get("sha256") and media.sha256 != data["sha256"]:
        raise ProviderError(
            "media does not match the checksum WhatsApp gave", failure=Failure.PERMANENT
        )
    mime_type = data.get("mime_type") or media.mime_type
    problem = media_problem(
        message.type,
        mime_type=mime_type,
        size=len(media.content),
        animated=bool(data.get("animated")),
    )
    if problem:
        raise ProviderError(problem.reason, failure=Failure.PERMANENT, tell_sender=problem)
    return provider.upload_media(
        phone_number_id=message.proxy_number.phone_number_id,
        content=media.content,
        mime_type=mime_type,
        filename=data.get("filename", ""),
    )


def _context_id(message: Message) -> str | None:
    return message.reply_to.provider_message_id if message.reply_to_id else None


@transaction.atomic
def _mark_accepted(accepted: list[tuple[Message, str]]) -> None:
    """WhatsApp took these messages (with the ids it gave them): one UPDATE for the round."""
    messages = [message for message, _ in accepted]
    now = timezone.now()
    still_sending = update_each(
        Message,
        "provider_message_id",
        {message.pk: wamid for message, wamid in accepted},
        where=("status", [MessageStatus.SENDING, MessageStatus.UNCERTAIN]),
        status=MessageStatus.SENT,
        sent_at=now,
        error_code=None,
        error_message="",
    )
    if still_sending < len(accepted):
        # A status webhook was handled first (it carries our id): the progress it recorded
        # stays, whichever came first.
        wamids = Case(*(When(pk=message.pk, then=Value(wamid)) for message, wamid in accepted))
        Message.objects.filter(pk__in=[message.pk for message in messages]).update(
            provider_message_id=Coalesce(F("provider_message_id"), wamids),
            sent_at=Coalesce(F("sent_at"), Value(now)),
            error_code=None,
            error_message="",
        )
    _end_backoffs(messages)
    with timeline_batch():
        for message in messages:
            timeline_record(EventKind.MESSAGE_SENT, message=message, origin=message.origin)
        messages_sources_settled(messages, MessageStatus.RELAYED)


def _end_backoffs(messages: list[Message]) -> None:
    """A success ends the backoff of its number and its leg (rarely in force: these are the
    rows as the round read them)."""
    numbers = {m.proxy_number_id for m in messages if m.proxy_number.backoff_level}
    if numbers:
        ProxyNumber.objects.filter(pk__in=numbers).update(backoff_level=0)
    legs = {m.leg.pk for m in messages if m.leg.backoff_level}
    if legs:
        Leg.objects.filter(pk__in=legs).update(backoff_level=0)


def message_source_settled(copy: Message, status: str, reason: str = "") -> None:
    """A relayed copy was sent (or failed for good): so was its source message."""
    messages_sources_settled([copy], status, reason)


def messages_sources_settled(copies: list[Message], status: str, reason: str = "") -> None:
    """Relayed copies were sent (or failed for good): so were their source messages, those
    that still waited for it."""
    copy_of = {c.source_id: c for c in copies if c.origin == Origin.RELAYED and c.source_id}
    if not copy_of:
        return
    pending = Message.objects.filter(pk__in=copy_of, status=MessageStatus.PENDING)
    settled = list(pending.select_for_update().values_list("pk", flat=True))
    if not settled:
        return
    Message.objects.filter(pk__in=settled).update(status=status, status_reason=reason)
    if status == MessageStatus.RELAYED:
        for source_id in settled:
            copy = copy_of[source_id]
            timeline_record(EventKind.MESSAGE_RELAYED, message=copy.source, copy_id=copy.pk)


@transaction.atomic
def _handle_failure(message: Message, error: ProviderError) -> None:
    now = timezone.now()
    failure = error.failure
    timeline_record(
        EventKind.MESSAGE_SEND_ERROR, message=message, code=error.code, failure=failure.value
    )
    if failure is Failure.UNCERTAIN:  # unless its "sent" status came in meanwhile
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.UNCERTAIN, error_message=error.message
        )
    elif failure is Failure.WINDOW_CLOSED:
        leg_window_closed(message)
    elif failure is Failure.HALT:
        outbound_halt(code=error.code, reason=error.message)
        _requeue(message, at=None)
    elif failure is Failure.NUMBER_RATE:
        level = message.proxy_number.backoff_level + 1
        until = now + _backoff(2**level)
        ProxyNumber.objects.filter(pk=message.proxy_number_id).update(
            backoff_level=level, backoff_until=until
        )
        _requeue(message, at=until)
    elif failure is Failure.PAIR_RATE:
        leg = leg_lock(contact=message.contact, proxy_number=message.proxy_number)
        until = now + timedelta(seconds=min(4**leg.backoff_level, MAX_BACKOFF_SECONDS))
        Leg.objects.filter(pk=leg.pk).update(
            backoff_level=leg.backoff_level + 1, backoff_until=until
        )
        _requeue(message, at=until)
    elif failure is Failure.TRANSIENT and message.attempts < settings.RELAY_MAX_SEND_ATTEMPTS:
        _requeue(message, at=now + _backoff(2**message.attempts), error=error)
    else:
        message_fail(
            message=message, code=error.code, reason=error.message, notice=error.tell_sender
        )


def _backoff(seconds: float) -> timedelta:
    """Capped exponential backoff with jitter, so retries of many messages spread out."""
    capped = min(seconds, MAX_BACKOFF_SECONDS)
    return timedelta(seconds=capped / 2 + random.uniform(0, capped / 2))  # noqa: S311


@transaction.atomic
def message_fail(
    *,
    message: Message,
    code: int | None,
    reason: str,
    notify: bool = True,
    notice: MediaProblem | None = None,
    only_from: tuple[str, ...] = FAILABLE,
) -> None:
    """Mark a message failed for good, if it is still in one of `only_from`, and (`notify`)
    tell the person whose words it carried what went wrong (`notice`) or a general apology."""
    updated = Message.objects.filter(pk=message.pk, status__in=only_from).update(
        status=MessageStatus.FAILED,
        failed_at=timezone.now(),
        error_code=code,
        error_message=reason,
    )
    if not updated:
        return
    timeline_record(EventKind.MESSAGE_FAILED, message=message, code=code)
    message_source_settled(message, MessageStatus.FAILED, f"its copy could not be sent: {reason}")
    origin = message.source
    if notify and message.origin == Origin.RELAYED and origin and origin.participant_id:
        notice_send(
            contact=origin.contact,
            proxy_number=origin.proxy_number,
            session=message.session,
            participant=origin.participant,
            key=notice.notice if notice else TextKey.UNDELIVERED,
            **(notice.values if notice else {}),
        )


def message_mirror_read(message_id: int) -> None:
    """Mark an inbound message read on WhatsApp, so that its writer sees it was read. Best
    effort: a failure is recorded, never retried."""
    message = (
        Message.objects.select_related("proxy_number")
        .filter(pk=message_id, direction=Direction.INBOUND)
        .first()
    )
    if message is None or outbound_held():
        return
    try:
        get_provider().mark_read(
            phone_number_id=message.proxy_number.phone_number_id,
            message_id=message.provider_message_id,
        )
    except ProviderError as error:
        with transaction.atomic():
            timeline_record(EventKind.READ_RECEIPT_FAILED, message=message, code=error.code)


def messages_cancel_for_session(*, session) -> int:
    """A session ended: what still waited to go out in it is not sent later. Rows another
    transaction holds are skipped, not waited for (that is how deadlocks start): the sender
    refuses them anyway once the session is over."""
    waiting = Message.objects.select_for_update(skip_locked=True).filter(
        session=session,
        direction=Direction.OUTBOUND,
        status__in=[MessageStatus.QUEUED, MessageStatus.HELD],
    )
    ids = list(waiting.values_list("id", flat=True))
    Message.objects.filter(relays__in=ids, status=MessageStatus.PENDING).update(
        status=MessageStatus.FAILED, status_reason="the session ended before it was passed on"
    )
    return Message.objects.filter(pk__in=ids).update(
        status=MessageStatus.FAILED,
        failed_at=timezone.now(),
        error_message="the session ended before it could be sent",
    )


def messages_reconcile_stuck(*, now) -> None:
    """A worker that died mid-send leaves SENDING: WhatsApp may have the message, so it
    becomes UNCERTAIN and waits for a status webhook. With none after a long while, it is
    failed visibly rather than sent a second time."""
    stuck_before = now - timedelta(minutes=settings.RELAY_UNCERTAIN_AFTER_MINUTES)
    Message.objects.filter(
        status=MessageStatus.SENDING, sending_started_at__lte=stuck_before
    ).update(status=MessageStatus.UNCERTAIN, error_message="the worker stopped while sending")
    give_up_before = now - timedelta(minutes=settings.RELAY_UNCERTAIN_GIVE_UP_MINUTES)
    for message in Message.objects.filter(
        status=MessageStatus.UNCERTAIN, sending_started_at__lte=give_up_before
    ).select_related("source__contact", "source__proxy_number"):
        message_fail(
            message=message,
            code=None,
            reason="WhatsApp never confirmed this message",
            only_from=(MessageStatus.UNCERTAIN,),  # a status that came meanwhile stands
        )
