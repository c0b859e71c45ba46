"""Quotes: a partner's price (/quote 1200 USD 3 weeks) waits for an agent, who adds the
aggregator's margin (a percentage or an amount) and sends the customer the final price only.
The partner's own price never leaves this table."""

import math
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from relay.choices import EventKind, QuoteStatus, Role, TextKey
from relay.commands.arguments import Money
from relay.exceptions import NotFound, RelayError
from relay.models import Quote, RelaySession
from relay.selectors import contact_language, session_sides
from relay.services.queueing import message_queue
from relay.texts import text_render
from relay.timeline import Actor, timeline_record

CENT = Decimal("0.01")
LARGEST = Decimal(10) ** 12  # the columns hold 14 digits, 2 after the point


@transaction.atomic
def quote_receive(
    *, session: RelaySession, price: Money, lead_time: timedelta | None, terms: str, actor: Actor
) -> Quote:
    """Keep the partner's quote, pending; one pending before it is superseded."""
    if price.amount >= LARGEST:
        raise RelayError(f"{price} is more than a quote can be")
    older = list(
        session.quotes.select_for_update()
        .filter(status=QuoteStatus.PENDING)
        .values_list("pk", flat=True)
    )
    Quote.objects.filter(pk__in=older, status=QuoteStatus.PENDING).update(
        status=QuoteStatus.SUPERSEDED
    )
    for pk in older:
        timeline_record(EventKind.QUOTE_SUPERSEDED, session=session, actor=actor, quote=pk)
    quote = Quote.objects.create(
        session=session,
        amount=price.amount,
        currency=price.currency,
        lead_time=lead_time,
        partner_terms=terms or "",
    )
    timeline_record(EventKind.QUOTE_RECEIVED, session=session, actor=actor, quote=quote.pk)
    return quote


def quote_final(quote: Quote, *, percent: Decimal | None, amount: Decimal | None) -> Decimal:
    """The price the customer is told: the partner's, plus the margin."""
    if (percent is None) == (amount is None):
        raise RelayError("give the margin either as a percentage or as an amount", field="margin")
    margin = quote.amount * percent / 100 if percent is not None else amount
    final = (quote.amount + margin).quantize(CENT, rounding=ROUND_HALF_UP)
    if final <= 0:
        raise RelayError("the final price must be more than 0", field="margin")
    if final >= LARGEST:
        raise RelayError("the final price is more than a quote can be", field="margin")
    return final


@transaction.atomic
def quote_send(
    *,
    session: RelaySession,
    quote_id: int,
    actor: Actor,
    margin_percent: Decimal | None = None,
    margin_amount: Decimal | None = None,
    terms: str = "",
) -> Quote:
    """Add the margin and tell the customer the final price (and the agent's terms)."""
    quote = Quote.objects.select_for_update().filter(session=session, pk=quote_id).first()
    if quote is None:
        raise NotFound(f"session {session.pk} has no quote {quote_id}")
    if quote.status != QuoteStatus.PENDING:
        raise RelayError(f"quote {quote_id} is {quote.get_status_display().lower()}")
    customer = session_sides(session).get(Role.CUSTOMER)
    if customer is None or not session.is_live():
        raise RelayError("nobody can be told: the session has no live customer", field="quote")
    quote.final_amount = quote_final(quote, percent=margin_percent, amount=margin_amount)
    quote.margin_percent, quote.margin_amount = margin_percent, margin_amount
    quote.terms, quote.status, quote.sent_at = terms.strip(), QuoteStatus.SENT, timezone.now()
    quote.save()
    language = contact_language(customer.contact, session.pool)
    text = text_render(
        TextKey.QUOTE_OFFER if quote.lead_time else TextKey.QUOTE_OFFER_NOW,
        language=language,
        ref=session.external_ref,
        price=str(Money(quote.final_amount, quote.currency)),
        lead_time=lead_time_words(quote.lead_time, language=language),
    )
    if quote.terms:
        text += f"\n{quote.terms}"
    message_queue(participant=customer, origin="api", body=text, actor=actor)
    _mark_quoted(session, actor)
    timeline_record(
        EventKind.QUOTE_SENT,
        session=session,
        actor=actor,
        quote=quote.pk,
        amount=str(quote.final_amount),
        currency=quote.currency,
    )
    return quote


UNITS = (  # hours in the unit, its text for one, for several
    (168, TextKey.ONE_WEEK, TextKey.WEEKS),
    (24, TextKey.ONE_DAY, TextKey.DAYS),
    (1, TextKey.ONE_HOUR, TextKey.HOURS),
)


def lead_time_words(lead_time: timedelta | None, *, language: str = "en") -> str:
    """3 weeks, 10 days, 24 hours: the largest whole unit (hours, rounded up, at least)."""
    if lead_time is None:
        return "-"
    hours = max(1, math.ceil(lead_time.total_seconds() / 3600))
    for size, one, several in UNITS:
        if hours % size == 0:
            count = hours // size
            return text_render(one if count == 1 else several, language=language, count=count)
    return text_render(TextKey.HOURS, language=language, count=hours)


def _mark_quoted(session: RelaySession, actor: Actor) -> None:
    from routing.services.bookings import booking_status_follow  # routing builds on relay

    booking_status_follow(session=session, to="quoted", actor=actor)
