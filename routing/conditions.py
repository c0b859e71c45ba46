"""What a routing rule's conditions look at in a message, each kind checked when the rule is
saved (a bad value is refused with a reason) and tested against a sample message."""

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex
from django.conf import settings

from relay.choices import MessageType
from relay.privacy import phone_like

# A pattern may spend this long on one message; one that would take longer is refused when
# saved, and treated as not matching if a message still makes it that slow.
REGEX_TIMEOUT_SECONDS = 0.05
# Messages a slow pattern is tried on when saved: long runs of what backtracking feeds on
# (WhatsApp texts are at most 4,096 characters).
SLOW_PROBES = (
    "a" * 4000 + "!",
    "1" * 4000 + "x",
    " " * 4000 + "!",
    "ab" * 2000 + "!",
    "word " * 800 + "!",
    "a1 " * 1300 + "\n!",
)
ATTACHMENT_KINDS = {"photo": "image", "pdf": "document"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass
class Sample:
    """What routing knows of a message: enough to run every condition, nothing stored."""

    text: str = ""
    type: str = MessageType.TEXT
    mime_type: str = ""
    number: str = ""  # the E.164 number written to
    workflow: str = ""
    tags: set[str] = field(default_factory=set)  # the customer's known tags
    at: datetime | None = None
    region: str | None = None  # the writer's country, for what looks like a phone number
    captures: dict[str, str] = field(default_factory=dict)  # named groups of matched rules
    pending: dict[str, str] = field(default_factory=dict)  # the rule being tried's groups


class ConditionError(ValueError):
    pass


def condition_check(condition: dict) -> None:
    """Refuse (ConditionError, saying why) a condition that could never work as written."""
    kind, value = condition.get("kind"), condition.get("value")
    if kind not in CHECKS:
        raise ConditionError(f"unknown condition kind '{kind}'; kinds: {', '.join(CHECKS)}")
    if not isinstance(value, str) or not value.strip():
        raise ConditionError(f"a {kind} condition needs a value (text)")
    CHECKS[kind](condition)


def condition_met(condition: dict, sample: Sample) -> bool:
    return MATCHERS[condition["kind"]](condition, sample)


def keywords_of(value: str) -> list[str]:
    return [word.strip().lower() for word in value.split(",") if word.strip()]


def _check_keyword(condition: dict) -> None:
    if not keywords_of(condition["value"]):
        raise ConditionError("a keyword condition needs words, separated by commas")


def _keyword(condition: dict, sample: Sample) -> bool:
    text = sample.text.lower()
    return any(
        re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
        for word in keywords_of(condition["value"])
    )


def _check_regex(condition: dict) -> None:
    try:
        pattern = regex.compile(condition["value"], regex.IGNORECASE)
    except regex.error as exc:
        raise ConditionError(f"the regular expression is not valid: {exc}") from exc
    for probe in SLOW_PROBES:
        try:
            pattern.search(probe, timeout=REGEX_TIMEOUT_SECONDS)
        except TimeoutError:
            raise ConditionError(
                "the regular expression is too slow: it can take seconds on one long message "
                "(nested repeats such as (a+)+ backtrack without end); write it without them"
            ) from None


def _regex(condition: dict, sample: Sample) -> bool:
    pattern = regex.compile(condition["value"], regex.IGNORECASE)
    try:
        found = pattern.search(sample.text, timeout=REGEX_TIMEOUT_SECONDS)
    except TimeoutError:
        return False
    if found is None:
        return False
    # A phone number is never a reference, whatever a pattern captures.
    groups = found.groupdict().items()
    sample.pending.update({k: v for k, v in groups if v and not phone_like(v, sample.region)})
    return True


def _check_message_type(condition: dict) -> None:
    value = condition["value"].strip().lower()
    if value not in MessageType.values and value not in ATTACHMENT_KINDS:
        kinds = sorted(set(MessageType.values) | set(ATTACHMENT_KINDS))
        raise ConditionError(f"unknown message type '{value}'; types: {', '.join(kinds)}")


def _message_type(condition: dict, sample: Sample) -> bool:
    value = condition["value"].strip().lower()
    if value == "pdf":
        return sample.type == MessageType.DOCUMENT and sample.mime_type == "application/pdf"
    return sample.type == ATTACHMENT_KINDS.get(value, value)


def _check_nothing(condition: dict) -> None:
    pass


def _number(condition: dict, sample: Sample) -> bool:
    return condition["value"].replace(" ", "") == sample.number


def _workflow(condition: dict, sample: Sample) -> bool:
    return condition["value"].strip() == sample.workflow


def _tag(condition: dict, sample: Sample) -> bool:
    return condition["value"].strip().lower() in {tag.lower() for tag in sample.tags}


def _check_time(condition: dict) -> None:
    _time_window(condition)


def _time(condition: dict, sample: Sample) -> bool:
    days, start, end, zone = _time_window(condition)
    local = (sample.at or datetime.now(tz=ZoneInfo("UTC"))).astimezone(zone)
    now, today, yesterday = local.time(), DAYS[local.weekday()], DAYS[local.weekday() - 1]
    if start < end:
        return today in days and start <= now < end
    # Past midnight: "fri 22:00-06:00" holds until Saturday 06:00.
    return (today in days and now >= start) or (yesterday in days and now < end)


def _time_window(condition: dict) -> tuple[set[str], time, time, ZoneInfo]:
    """ "mon-fri 09:00-18:00", "sat,sun", "22:00-06:00"; in `timezone` (default
    ROUTING_TIME_ZONE)."""
    words = condition["value"].lower().split()
    days, start, end = set(DAYS), time(0, 0), time(23, 59, 59, 999999)
    for word in words:
        hours = TIME_RANGE.match(word)
        if hours:
            h1, m1, h2, m2 = (int(part) for part in hours.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
                raise ConditionError(f"'{word}' is not a time range such as 09:00-18:00")
            start, end = time(h1, m1), time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        else:
            days = _days(word)
    name = condition.get("timezone") or settings.ROUTING_TIME_ZONE
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConditionError(f"unknown time zone '{name}', e.g. Europe/London") from None
    return days, start, end, zone


def _days(word: str) -> set[str]:
    days = set()
    for part in word.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ConditionError(
                f"'{word}' is neither days (mon-fri, sat,sun) nor hours (09:00-18:00)"
            )
        i, j = DAYS.index(first), DAYS.index(last or first)
        days |= {DAYS[k % 7] for k in range(i, j + 1 if j >= i else j + 8)}
    return days


CHECKS = {
    "keyword": _check_keyword,
    "regex": _check_regex,
    "message_type": _check_message_type,
    "number": _check_nothing,
    "workflow": _check_nothing,
    "tag": _check_nothing,
    "time": _check_time,
}
MATCHERS = {
    "keyword": _keyword,
    "regex": _regex,
    "message_type": _message_type,
    "number": _number,
    "workflow": _workflow,
    "tag": _tag,
    "time": _time,
}
