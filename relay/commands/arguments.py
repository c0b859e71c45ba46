"""The typed arguments of slash commands, read from what follows the command's name: a
booking reference, a money amount with its currency, a duration, a partner code, free text.
A value that cannot be read raises ArgumentError, saying how to write it."""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

# ISO 4217 codes a price is likely to be given in; a symbol stands for the first one it can.
CURRENCIES = {
    "USD", "EUR", "GBP", "INR", "AED", "AUD", "BDT", "BRL", "CAD", "CHF", "CNY", "CZK",
    "DKK", "EGP", "HKD", "IDR", "ILS", "JPY", "KES", "KRW", "LKR", "MAD", "MXN", "MYR",
    "NGN", "NOK", "NZD", "PHP", "PKR", "PLN", "QAR", "SAR", "SEK", "SGD", "THB", "TRY",
    "TWD", "VND", "ZAR",
}  # fmt: skip
SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "₹": "INR"}
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
MONEY = re.compile(
    rf"(?P<symbol>[$€£₹])\s?(?P<a1>{_AMOUNT})"
    rf"|(?P<a2>{_AMOUNT})\s?(?P<c2>[A-Za-z]{{3}})(?![A-Za-z])"
    rf"|(?P<c3>[A-Za-z]{{3}})\s?(?P<a3>{_AMOUNT})"
)
UNITS = {
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "days": ("d", "day", "days"),
    "weeks": ("w", "wk", "wks", "week", "weeks"),
}
DURATION = re.compile(r"(?P<count>\d+(?:\.\d+)?)\s?(?P<unit>[A-Za-z]+)(?![A-Za-z])")
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]{0,99}(?![\w/-])")
PARTNER_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}(?![\w-])", re.IGNORECASE)
KINDS = ("booking_ref", "money", "duration", "partner_code", "text")


class ArgumentError(ValueError):
    """What is wrong with an argument, and how to write it."""


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount:,.2f}".removesuffix(".00") + f" {self.currency}"


def arguments_read(kinds: list[str], text: str) -> list:
    """The values of `kinds`, in order, read from `text`; a kind ending in "?" may be left
    out. Anything left over is an error, unless the last kind is free text."""
    rest = text.strip()
    values = []
    for spec in kinds:
        kind, optional = spec.removesuffix("?"), spec.endswith("?")
        if not rest:
            if optional:
                values.append(None)
                continue
            raise ArgumentError(f"{_NAMES[kind]} is missing: {_HOW[kind]}")
        value, rest = READERS[kind](rest)
        values.append(value)
        rest = rest.strip()
    if rest:
        raise ArgumentError(f"'{rest}' was not expected")
    return values


def _money(text: str) -> tuple[Money, str]:
    match = MONEY.match(text)
    if match is None:
        raise ArgumentError(f"'{_first_words(text)}' is not an amount: {_HOW['money']}")
    amount = match["a1"] or match["a2"] or match["a3"]
    currency = SYMBOLS.get(match["symbol"]) if match["symbol"] else (match["c2"] or match["c3"])
    currency = currency.upper()
    if currency not in CURRENCIES:
        raise ArgumentError(f"'{currency}' is not a currency: {_HOW['money']}")
    try:
        value = Decimal(amount.replace(",", ""))
    except InvalidOperation:
        raise ArgumentError(f"'{amount}' is not an amount: {_HOW['money']}") from None
    if value <= 0:
        raise ArgumentError(f"the amount must be more than 0: {_HOW['money']}")
    return Money(value, currency), text[match.end() :]


def _duration(text: str) -> tuple[timedelta, str]:
    match = DURATION.match(text)
    unit = match and next(
        (name for name, words in UNITS.items() if match["unit"].lower() in words), None
    )
    if not match or unit is None:
        raise ArgumentError(f"'{_first_words(text)}' is not a duration: {_HOW['duration']}")
    count = float(match["count"])
    if count <= 0:
        raise ArgumentError(f"a duration must be more than 0: {_HOW['duration']}")
    return timedelta(**{unit: count}), text[match.end() :]


def _reference(text: str) -> tuple[str, str]:
    match = REFERENCE.match(text)
    if match is None:
        raise ArgumentError(
            f"'{_first_words(text)}' is not a booking reference: {_HOW['booking_ref']}"
        )
    return match.group().upper(), text[match.end() :]


def _partner_code(text: str) -> tuple[str, str]:
    match = PARTNER_CODE.match(text)
    if match is None:
        raise ArgumentError(f"'{_first_words(text)}' is not a partner code: {_HOW['partner_code']}")
    return match.group().lower(), text[match.end() :]


def _text(text: str) -> tuple[str, str]:
    return text, ""


def _first_words(text: str) -> str:
    return " ".join(text.split()[:2])


READERS = {
    "booking_ref": _reference,
    "money": _money,
    "duration": _duration,
    "partner_code": _partner_code,
    "text": _text,
}
_NAMES = {
    "booking_ref": "the booking reference",
    "money": "the amount",
    "duration": "the time",
    "partner_code": "the partner code",
    "text": "the text",
}
_HOW = {
    "booking_ref": "write it as it is given, e.g. BK-1042",
    "money": "write the amount and its currency, e.g. 1200 USD",
    "duration": "write a number and a unit, e.g. 3 weeks, 24 hours, 2 days",
    "partner_code": "write the partner's code, e.g. factory-a",
    "text": "write it after the command",
}
