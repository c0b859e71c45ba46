"""The privacy guard: finds contact details in text, including ones written to slip past a
filter, and replaces them with neutral markers. Reference numbers stay readable."""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

import phonenumbers
from publicsuffixlist import PublicSuffixList

from relay.choices import LeakKind

MARKERS = {
    LeakKind.PHONE: "[number hidden]",
    LeakKind.EMAIL: "[e-mail hidden]",
    LeakKind.URL: "[link hidden]",
}

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "sam [at] example [dot] com", "sam (at) example.com", "sam @ x . io", and "sam at example
# dot com" (a plain "at" only with a spelled "dot": "visit us at example.com" is a link).
_AT = r"(?:\s*@\s*|\s*[\(\[\{<]\s*at\s*[\)\]\}>]\s*)"
_DOT = r"(?:\s*\.\s*|\s*[\(\[\{<]\s*dot\s*[\)\]\}>]\s*|\s+dot\s+)"
_LABELS = rf"[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)*"
SPELLED_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+(?:{_AT}(?P<domain>[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)+)"
    rf"|\s+at\s+(?P<worded>{_LABELS}\s+dot\s+{_LABELS}))\b",
    re.IGNORECASE,
)
LINK = re.compile(r"\b(?:https?://|www\.)\S+|\b(?:wa\.me|t\.me)/\S*", re.IGNORECASE)
# A host name, perhaps with a path: a link only if it ends in a real public suffix.
HOST = re.compile(
    r"(?<![\w@.-])(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9])"
    r"(?P<path>/\S*)?",
    re.IGNORECASE,
)
# Real suffixes that are more often the end of a file name: links only with a path.
FILE_LIKE_SUFFIXES = {"zip", "mov", "py", "md", "rs", "sh", "pl", "ps", "so", "doc"}

# References that stay readable: "INV-2026-000123", "PO4500012346", "MSCU1234567", and digits
# after a word that names what they are ("PO# 4500012346", "order no. 88120034").
PREFIXED_REFERENCE = re.compile(r"\b(?P<prefix>[A-Za-z]{2,6})(?:[-/]|\s?#\s?)?\d[\d/-]*\d\b")
# ...but "tel07700900123" is a phone number, however it is written.
PHONE_WORDS = {"tel", "ph", "phone", "mob", "mobile", "cell", "call", "fax", "wa", "no", "nr"}
GLUED_PHONE_WORD = re.compile(rf"\b({'|'.join(sorted(PHONE_WORDS))})(?=\+?\d)", re.IGNORECASE)
NAMED_REFERENCE = re.compile(
    r"\b(?:order|p\.?o|purchase\s+order|invoice|inv|booking|bk|tracking|container|shipment|"
    r"consignment|awb|b/?l|ref|reference|lot|batch|sku|item|article|style|design|model)\b\.?"
    r"(?:\s*(?:no|nr|num|number|id)\b\.?)?\s*[#:]?\s*\d[\d\s/-]*\d",
    re.IGNORECASE,
)
# Dates and times are left alone, however many digits they hold; a date is three groups
# (day, month, year or year, month, day), not part of a longer run of digits.
DATE_OR_TIME = re.compile(
    r"(?<![\d][-./])\b(?:\d{1,2}([-./])\d{1,2}\1(?:\d{4}|\d{2})|\d{4}([-./])\d{1,2}\2\d{1,2})\b"
    r"(?![-./]\d)|\b\d{1,2}:\d{2}\b"
)
# Long runs of digits with separators ("0 7 7 0 0 ...", "447.700.900.123") that a phone
# matcher for the wrong region would miss; not references such as "#12345678".
DIGIT_RUN = re.compile(r"(?<![\w#/])(?<!\w-)\+?\(?\d[\d\s().-]{6,}\d(?![\w])")
SPELLED_DIGITS = re.compile(
    r"\b(?:(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)"
    r"[\s,.-]*){7,}\b",
    re.IGNORECASE,
)
MIN_PHONE_DIGITS = 8  # fewer: prices, quantities, short references
MIN_REFERENCE = 3  # a known reference shorter than this is not set aside: it would split numbers
# No phone number anywhere has fewer digits than this, however they are written.
MAYBE_PHONE = re.compile(r"(?:\d[\s().\-/]*){5}")
SHELF = 0xE000  # private-use characters stand for what is set aside


@dataclass
class Redaction:
    text: str
    found: Counter = field(default_factory=Counter)


@cache
def _suffixes() -> PublicSuffixList:
    """The public suffix list bundled with the library: every real domain ending, offline."""
    return PublicSuffixList(accept_unknown=False)


def redact(
    text: str,
    *,
    region: str | None = None,
    markers: dict[str, str] | None = None,
    keep: Callable[[str], Iterable[str]] | None = None,
) -> Redaction:
    """Replace phone numbers, e-mail addresses and links in `text`.

    `region` is the sender's country (e.g. "GB"), so that numbers written in national format
    ("07700 900123") are caught too; `markers` what replaces each kind, in the reader's
    language (English by default); `keep` gives, for a text with a run of digits, the parts
    of it known to be references (routing's), which stay as they are.
    """
    if not text:
        return Redaction(text or "")
    markers = MARKERS if markers is None else markers
    found: Counter = Counter()

    def hide(kind: LeakKind) -> str:
        found[kind] += 1
        return markers[kind]

    text = EMAIL.sub(lambda m: hide(LeakKind.EMAIL), text)
    text = SPELLED_EMAIL.sub(lambda m: _if_domain(m, hide), text)
    text = LINK.sub(lambda m: hide(LeakKind.URL), text)
    text = HOST.sub(lambda m: _if_link(m, hide), text)
    text = GLUED_PHONE_WORD.sub(r"\1 ", text)
    shelf: list[str] = []
    if keep is not None and MAYBE_PHONE.search(text):
        text = _set_aside_references(text, keep(text), region, shelf)
    for pattern in (NAMED_REFERENCE, PREFIXED_REFERENCE, DATE_OR_TIME):
        text = pattern.sub(lambda m: _set_aside(m, shelf), text)
    text = _redact_phones(text, region, hide)
    text = DIGIT_RUN.sub(lambda m: _if_long(m, hide), text)
    text = SPELLED_DIGITS.sub(lambda m: hide(LeakKind.PHONE), text)
    return Redaction(_restore(text, shelf), +found)


def _if_domain(match: re.Match, hide) -> str:
    labels = re.split(_DOT, match["domain"] or match["worded"], flags=re.IGNORECASE)
    host = ".".join(label.lower() for label in labels)
    return hide(LeakKind.EMAIL) if _suffixes().privatesuffix(host) else match.group()


def _if_link(match: re.Match, hide) -> str:
    host, path = match["host"], match["path"]
    labels = host.split(".")
    if not _suffixes().privatesuffix(host.lower()):
        return match.group()
    if labels[-1].lower() in FILE_LIKE_SUFFIXES and not path:
        return match.group()  # "catalogue.zip"
    if labels[-2][-1:].islower() and labels[-1][:1].isupper():
        return match.group()  # "done.Now": a sentence with its space missing
    return hide(LeakKind.URL)


def _if_long(match: re.Match, hide) -> str:
    digits = re.sub(r"\D", "", match.group())
    return hide(LeakKind.PHONE) if len(digits) >= MIN_PHONE_DIGITS else match.group()


def _redact_phones(text: str, region: str | None, hide) -> str:
    if not MAYBE_PHONE.search(text):  # the matcher is slow, and needs digits to find anything
        return text
    matches = list(
        phonenumbers.PhoneNumberMatcher(text, region or "US", leniency=phonenumbers.Leniency.VALID)
    )
    for match in reversed(matches):
        start = match.start
        if text[start - 1 : start] == "(" and "(" not in match.raw_string:
            start -= 1  # "(415) 555-0198": the matcher leaves the opening bracket out
        text = text[:start] + hide(LeakKind.PHONE) + text[match.end :]
    return text


def phone_like(value: str, region: str | None) -> bool:
    """`value` holds a valid phone number (of `region`, or written internationally): never
    taken for a reference, whoever says it is one."""
    return bool(_valid_phones(value, region))


def _set_aside_references(text: str, references, region: str | None, shelf: list[str]) -> str:
    """Set aside each whole occurrence of a known reference, unless it is part of a longer
    phone number ("900123" in "+44 7700 900123") or is one itself."""
    phones = _phone_spans(text, region)
    spans: list[tuple[int, int]] = []
    wanted = {ref.strip() for ref in references if len(ref.strip()) >= MIN_REFERENCE}
    for reference in sorted(wanted, key=len, reverse=True):
        for match in re.finditer(rf"(?<![\w+]){re.escape(reference)}(?!\w)", text):
            start, end = match.span()
            inside_a_number = any(
                a <= start and end <= b and (a, b) != (start, end) for a, b in phones
            )
            taken = any(start < b and a < end for a, b in spans)
            if not inside_a_number and not taken and not phone_like(reference, region):
                spans.append((start, end))
    for start, end in sorted(spans, reverse=True):
        shelf.append(text[start:end])
        text = text[:start] + chr(SHELF + len(shelf) - 1) + text[end:]
    return text


def _phone_spans(text: str, region: str | None) -> list[tuple[int, int]]:
    """Where the guard would see a phone number: a valid one, or a long run of digits."""
    long_runs = [
        m.span() for m in DIGIT_RUN.finditer(text) if _digits(m.group()) >= MIN_PHONE_DIGITS
    ]
    return _valid_phones(text, region) + long_runs


def _valid_phones(text: str, region: str | None) -> list[tuple[int, int]]:
    if not MAYBE_PHONE.search(text):
        return []
    leniency = phonenumbers.Leniency.VALID
    return [
        (m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, region or "US", leniency)
    ]


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _set_aside(match: re.Match, shelf: list[str]) -> str:
    """A reference, date or time stands aside as one private-use character while numbers are
    looked for, so it neither counts as digits nor shields a number written next to it."""
    prefix = match.groupdict().get("prefix")
    if prefix and prefix.lower() in PHONE_WORDS:
        return match.group()
    shelf.append(match.group())
    return chr(SHELF + len(shelf) - 1)


def _restore(text: str, shelf: list[str]) -> str:
    def back(match: re.Match) -> str:
        index = ord(match.group()) - SHELF
        return shelf[index] if index < len(shelf) else match.group()

    return re.sub("[\ue000-\uf8ff]", back, text)
