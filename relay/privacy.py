"""The privacy guard: finds contact details in text and replaces them with neutral markers."""

import re
from collections import Counter
from dataclasses import dataclass, field

import phonenumbers

from relay.choices import LeakKind

MARKERS = {
    LeakKind.PHONE: "[number hidden]",
    LeakKind.EMAIL: "[e-mail hidden]",
    LeakKind.URL: "[link hidden]",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
URL = re.compile(
    r"\b(?:https?://|www\.|wa\.me/|t\.me/)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|me|co|in|uk|de)(?:/\S*)?\b",
    re.IGNORECASE,
)
# Long runs of digits with separators that a phone matcher for the wrong region would miss;
# not references such as "#12345678" or "BK-12345678".
DIGIT_RUN = re.compile(r"(?<![\w#/])(?<!\w-)\+?\d[\d\s().-]{6,}\d(?![\w])")
# Dates and times are left alone, however many digits they hold.
DATE_OR_TIME = re.compile(r"\b\d{1,4}([-./])\d{1,2}\1\d{1,4}\b|\b\d{1,2}:\d{2}\b")


@dataclass
class Redaction:
    text: str
    found: Counter = field(default_factory=Counter)


def redact(text: str, *, region: str | None = None) -> Redaction:
    """Replace phone numbers, e-mail addresses and links in `text`.

    `region` is the sender's country (e.g. "GB"), so that numbers written in national format
    ("07700 900123") are caught too.
    """
    if not text:
        return Redaction(text or "")
    found: Counter = Counter()

    def substitute(pattern: re.Pattern, kind: LeakKind, value: str) -> str:
        value, n = pattern.subn(MARKERS[kind], value)
        found[kind] += n
        return value

    text = substitute(EMAIL, LeakKind.EMAIL, text)
    text = substitute(URL, LeakKind.URL, text)
    text = _redact_phones(text, region, found)
    text = _redact_digit_runs(text, found)
    return Redaction(text, +found)


def _redact_phones(text: str, region: str | None, found: Counter) -> str:
    matches = list(
        phonenumbers.PhoneNumberMatcher(text, region or "US", leniency=phonenumbers.Leniency.VALID)
    )
    for match in reversed(matches):
        text = text[: match.start] + MARKERS[LeakKind.PHONE] + text[match.end :]
        found[LeakKind.PHONE] += 1
    return text


def _redact_digit_runs(text: str, found: Counter) -> str:
    # Each date or time stands aside as one private-use character while runs are looked for,
    # so it neither counts as digits nor shields a number written next to it.
    kept: list[str] = []

    def set_aside(match: re.Match) -> str:
        kept.append(match.group())
        return chr(0xE000 + len(kept) - 1)

    def replace(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group())
        if len(digits) < 8:  # prices and short references stay
            return match.group()
        found[LeakKind.PHONE] += 1
        return MARKERS[LeakKind.PHONE]

    text = DIGIT_RUN.sub(replace, DATE_OR_TIME.sub(set_aside, text))

    def restore(match: re.Match) -> str:
        index = ord(match.group()) - 0xE000
        return kept[index] if index < len(kept) else match.group()

    return re.sub("[\ue000-\uf8ff]", restore, text)
