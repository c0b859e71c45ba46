"""Delivering queued messages: claimed once, paced per conversation, sent through the
provider, retried with backoff, failed visibly when nothing more can be done."""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from relay import payloads
from relay.choices import MEDIA_TYPES, Direction, EventKind, MessageStatus, Origin, TextKey
from relay.media import MediaProblem, media_problem
from relay.models import Leg, Message, ProxyNumber
from relay.providers import get_provider
from relay.providers.base import Failure, Provider, ProviderError
from relay.services.holds import outbound_halt, outbound_held
from relay.services.queueing import notice_send
from relay.services.windows import leg_lock, leg_window_closed, message_hold_for_window
from relay.timeline import timeline_record

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
    """Claim up to `limit` due messages and send them; how many were claimed. Only the
    oldest waiting message of each conversation (person and number) is due: a later one never
    overtakes one that waits for a retry, whichever worker claims it. Nothing is claimed
    while all sending is paused."""
    if outbound_held():
        return 0
    messages = _claim(_due(), limit)
    for message in messages:
        _deliver(message)
    return len(messages)


def message_deliver(message_id: int) -> None:
    """Send one queued message if it is due. Safe to call any number of times: it is sent at
    most once."""
    for message in _claim(_due().filter(pk=message_id), 1):
        _deliver(message)


def _due():
    now = timezone.now()
    earlier = Message.objects.filter(
        direction=Direction.OUTBOUND,
        contact=OuterRef("contact"),
        proxy_number=OuterRef("proxy_number"),
        status__in=[MessageStatus.QUEUED, MessageStatus.SENDING],
        pk__lt=OuterRef("pk"),
    ).exclude(origin=Origin.TEMPLATE)
    return (
        Message.objects.filter(direction=Direction.OUTBOUND, status=MessageStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        # An invitation goes ahead of what waits for its answer.
        .filter(Q(origin=Origin.TEMPLATE) | ~Exists(earlier))
        .order_by("id")
    )


def _claim(due, limit: int) -> list[Message]:
    """QUEUED -> SENDING for the rows this worker takes; others skip them."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
        Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENDING, sending_started_at=now
        )
    return list(
        Message.objects.filter(pk__in=ids)
        .select_related(
            "contact",
            "proxy_number",
            "session__pool__notice_template",
            "participant",
            "source__proxy_number",
        )
        .order_by("id")
    )


def _deliver(message: Message) -> None:
    """Send one claimed (SENDING) message and record what came of it."""
    now = message.sending_started_at
    if message.session_id and not message.session.is_live() and message.origin != Origin.NOTICE:
        message_fail(
            message=message,
            code=None,
            reason="the session ended first",
            notify=False,
            only_from=(MessageStatus.SENDING,),
        )
        return
    try:
        wamid = _send(message, now)
    except ProviderError as error:
        _handle_failure(message, error)
        return
    except Exception:
        # Nothing went out (WhatsApp's errors are ProviderErrors): try again later, counted.
        logger.exception("sending message %s failed before it reached WhatsApp", message.pk)
        _handle_failure(message, ProviderError("internal error", failure=Failure.TRANSIENT))
        return
    if wamid:
        _mark_accepted(message, wamid)


def _send(message: Message, now) -> str | None:
    """The send itself; None when the message may not go now (requeued or held)."""
    if _must_wait(message, now) is not None:
        return None
    provider = get_provider()
    # Counted before any call, so that media that never downloads still runs out of tries.
    Message.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1)
    media_id = _prepare_media(message, provider)
    payload = payloads.build(message, media_id=media_id, context_id=_context_id(message))
    return provider.send(phone_number_id=message.proxy_number.phone_number_id, payload=payload)


def _must_wait(message: Message, now) -> str | None:
    """Put the message back, or hold it, if it may not be sent now; say why."""
    if outbound_held():
        _requeue(message, at=None)
        return "hold"
    number = message.proxy_number
    if number.backoff_until and number.backoff_until > now:
        _requeue(message, at=number.backoff_until)
        return "number backoff"
    with transaction.atomic():
        leg = leg_lock(contact=message.contact, proxy_number=number)
        if message.origin != Origin.TEMPLATE and not leg.window_open(now):
            message_hold_for_window(message, leg)
            return "window closed"
        if leg.backoff_until and leg.backoff_until > now:
            _requeue(message, at=leg.backoff_until)
            return "pair backoff"
        ready_at = _take_pair_token(leg, now)
        if ready_at is not None:
            _requeue(message, at=ready_at)
            return "pacing"
    return None


def _take_pair_token(leg: Leg, now):
    """A token bucket per leg: short bursts pass, a long burst is spread out. Returns None
    when a token was taken, else when the next one will be there. The leg is locked."""
    burst = settings.RELAY_PAIR_BURST
    interval = settings.RELAY_PAIR_INTERVAL_SECONDS
    if leg.tokens_at is None:
        tokens = float(burst)
    else:
        elapsed = (now - leg.tokens_at).total_seconds()
        tokens = min(float(burst), leg.tokens + elapsed / interval)
    if tokens < 1:
        return now + timedelta(seconds=(1 - tokens) * interval)
    Leg.objects.filter(pk=leg.pk).update(tokens=tokens - 1, tokens_at=now)
    return None


def _requeue(message: Message, *, at, error: ProviderError | None = None) -> None:
    """Back in the queue, due `at`; a failed attempt leaves its error to say why it waits."""
    fields = {"status": MessageStatus.QUEUED, "next_attempt_at": at}
    if error is not None:
        fields |= {"error_code": error.code, "error_message": error.message}
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
def _mark_accepted(message: Message, wamid: str) -> None:
    # A status webhook may have been handled first (it carries our id): progress it recorded
    # stays, whichever came first.
    Message.objects.filter(pk=message.pk).update(
        status=Case(
            When(status__in=[MessageStatus.SENDING, MessageStatus.UNCERTAIN], then=Value("sent")),
            default=F("status"),
        ),
        provider_message_id=Coalesce(F("provider_message_id"), Value(wamid)),
        sent_at=Coalesce(F("sent_at"), Value(timezone.now())),
        error_code=None,
        error_message="",
    )
    # A success ends any backoff (rarely in force: the filters keep this to reads).
    ProxyNumber.objects.filter(pk=message.proxy_number_id, backoff_level__gt=0).update(
        backoff_level=0
    )
    Leg.objects.filter(
        contact=message.contact_id, proxy_number=message.proxy_number_id, backoff_level__gt=0
    ).update(backoff_level=0)
    timeline_record(EventKind.MESSAGE_SENT, message=message, origin=message.origin)
    message_source_settled(message, MessageStatus.RELAYED)


def message_source_settled(copy: Message, status: str, reason: str = "") -> None:
    """A relayed copy was sent (or failed for good): so was its source message."""
    if copy.origin != Origin.RELAYED or copy.source_id is None:
        return
    pending = Message.objects.filter(pk=copy.source_id, status=MessageStatus.PENDING)
    if not pending.update(status=status, status_reason=reason):
        return
    if status == MessageStatus.RELAYED:
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
    elif failure is Failure.TRANSIENT and message.attempts + 1 < settings.RELAY_MAX_SEND_ATTEMPTS:
        _requeue(message, at=now + _backoff(2 ** (message.attempts + 1)), error=error)
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
