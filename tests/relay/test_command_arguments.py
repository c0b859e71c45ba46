"""Slash commands' typed arguments: what is read, and what is refused with how to write it."""

from datetime import timedelta
from decimal import Decimal

import pytest

from relay.commands.arguments import ArgumentError, Money, arguments_read


@pytest.mark.parametrize(
    "text, amount, currency",
    [
        ("1200 USD", "1200", "USD"),
        ("1,380.50 eur", "1380.50", "EUR"),
        ("USD 1200", "1200", "USD"),
        ("$1200", "1200", "USD"),
        ("₹ 25,000", "25000", "INR"),
        ("1200usd", "1200", "USD"),
    ],
)
def test_a_money_amount_is_read_with_its_currency(text, amount, currency):
    assert arguments_read(["money"], text) == [Money(Decimal(amount), currency)]


@pytest.mark.parametrize(
    "text, duration",
    [
        ("3 weeks", timedelta(weeks=3)),
        ("24h", timedelta(hours=24)),
        ("24 HRS", timedelta(hours=24)),
        ("2 days", timedelta(days=2)),
        ("90 min", timedelta(minutes=90)),
        ("1.5 hours", timedelta(hours=1.5)),
    ],
)
def test_a_duration_is_read_with_its_unit(text, duration):
    assert arguments_read(["duration"], text) == [duration]


def test_arguments_are_read_in_order_and_free_text_takes_the_rest():
    quote = arguments_read(["money", "duration", "text?"], "1200 USD 3 weeks incl. polishing")
    booking = arguments_read(["booking_ref?"], "bk-1042")

    assert quote == [Money(Decimal(1200), "USD"), timedelta(weeks=3), "incl. polishing"]
    assert booking == ["BK-1042"]
    assert arguments_read(["booking_ref?"], "") == [None]
    assert arguments_read(["partner_code"], "Factory-B") == ["factory-b"]


@pytest.mark.parametrize(
    "kinds, text, reason",
    [
        (["money"], "1200", "'1200' is not an amount: write the amount and its currency"),
        (["money"], "1200 for you", "'FOR' is not a currency"),
        (["money"], "0 USD", "more than 0"),
        (["money", "duration"], "1200 USD", "the time is missing: write a number and a unit"),
        (["duration"], "3 fortnights", "'3 fortnights' is not a duration"),
        (["duration"], "soon", "'soon' is not a duration"),
        (["booking_ref"], "", "the booking reference is missing"),
        (["booking_ref"], "BK-1 BK-2", "'BK-2' was not expected"),
        (["partner_code"], "#factory", "'#factory' is not a partner code"),
    ],
)
def test_what_cannot_be_read_says_how_to_write_it(kinds, text, reason):
    with pytest.raises(ArgumentError, match=reason):
        arguments_read(kinds, text)


def test_money_is_written_back_for_people():
    assert str(Money(Decimal("1380"), "USD")) == "1,380 USD"
    assert str(Money(Decimal("1380.5"), "EUR")) == "1,380.50 EUR"
