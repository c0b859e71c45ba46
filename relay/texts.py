"""Every text Switchboard itself sends to a person on WhatsApp: one catalogue, written for
readers who may not read English well, translated with gettext (relay/locale/), and
rewordable by an admin without a deploy (Texts, in the admin).

A text is rendered in its reader's language: an admin's wording in that language first,
then the translation, then the admin's English wording, then the text below."""

import string
from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from relay import languages
from relay.choices import LeakKind, Role, TextKey
from relay.models import Participant, TextOverride

CATALOGUE: dict[str, str] = {
    TextKey.STRANGER: gettext_noop(
        "Hello! This number is only for messages about your bookings. We found no open "
        "booking for you here, so we could not send your message."
    ),
    TextKey.UNSUPPORTED: gettext_noop(
        "Sorry, we cannot send this kind of message. Please send text, a photo, a document "
        "or a location."
    ),
    TextKey.STALE: gettext_noop(
        "Sorry, your message reached us too late, so we did not send it. Please send it again."
    ),
    TextKey.ENDED: gettext_noop(
        "Sorry, this booking is closed, so we could not send your message."
    ),
    TextKey.UNDELIVERED: gettext_noop(
        "Sorry, we could not deliver your last message. Please try again later."
    ),
    TextKey.PARTLY_UNREADABLE: gettext_noop(
        "Some characters in your message could not be read. We sent the rest of it."
    ),
    TextKey.FILE_TYPE_REFUSED: gettext_noop(
        "Sorry, we could not send your file. WhatsApp does not accept this type of file ({type})."
    ),
    TextKey.FILE_TOO_LARGE: gettext_noop(
        "Sorry, we could not send your file. It is {size}, and WhatsApp accepts at most "
        "{limit} for this type of file."
    ),
    TextKey.WHICH_BOOKING: gettext_noop(
        "You have more than one booking on this number. Which booking is your message about?"
    ),
    TextKey.WHICH_BOOKING_FOOTER: gettext_noop("Or start your message with its #tag."),
    # WhatsApp allows 20 characters on a list's button and 24 in its heading.
    TextKey.WHICH_BOOKING_BUTTON: gettext_noop("Choose"),
    TextKey.WHICH_BOOKING_SECTION: gettext_noop("Bookings"),
    TextKey.WHICH_BOOKING_ROW: gettext_noop("With {name}"),
    TextKey.CONTACT_CARD: gettext_noop(
        "A contact card was shared: {names}. Contact details are hidden in this conversation."
    ),
    TextKey.UNNAMED_CONTACT: gettext_noop("a contact"),
    TextKey.NUMBER_HIDDEN: gettext_noop("[number hidden]"),
    TextKey.EMAIL_HIDDEN: gettext_noop("[e-mail hidden]"),
    TextKey.LINK_HIDDEN: gettext_noop("[link hidden]"),
    TextKey.CUSTOMER: gettext_noop("Customer"),
    TextKey.PARTNER: gettext_noop("Partner"),
    TextKey.COMMAND_UNKNOWN: gettext_noop(
        "Sorry, there is no command /{name}. You can use: {commands}."
    ),
    TextKey.COMMAND_NOT_ALLOWED: gettext_noop("Sorry, you cannot use /{name} here."),
    TextKey.COMMAND_WRONG: gettext_noop(
        "Sorry, /{name} did not run. Please write it like this: {usage}"
    ),
    TextKey.COMMAND_DONE: gettext_noop("Done: /{name} for booking {ref}."),
    TextKey.BOOKING_NOW: gettext_noop("Hello! Your booking {ref} is now: {status}."),
    TextKey.FOLLOW_UP: gettext_noop(
        "Hello! We are waiting for your answer about booking {ref}. Please reply when you can."
    ),
    TextKey.QUOTE_OFFER: gettext_noop(
        "Hello! Here is the price for {ref}: {price}. It can be ready in {lead_time}."
    ),
    TextKey.QUOTE_OFFER_NOW: gettext_noop("Hello! Here is the price for {ref}: {price}."),
    TextKey.ONE_WEEK: gettext_noop("1 week"),
    TextKey.WEEKS: gettext_noop("{count} weeks"),
    TextKey.ONE_DAY: gettext_noop("1 day"),
    TextKey.DAYS: gettext_noop("{count} days"),
    TextKey.ONE_HOUR: gettext_noop("1 hour"),
    TextKey.HOURS: gettext_noop("{count} hours"),
    TextKey.HANDOVER_ASK: gettext_noop(
        "Hello! Do you agree to share your phone number with {other} for booking {ref}? "
        "Numbers are shared only if you both say yes."
    ),
    TextKey.HANDOVER_YES: gettext_noop("Yes, share"),
    TextKey.HANDOVER_NO: gettext_noop("No, thank you"),
    TextKey.HANDOVER_WAIT: gettext_noop(
        "Thank you. We will tell you when {other} answers. Tap No to change your mind."
    ),
    TextKey.HANDOVER_KEPT: gettext_noop("OK. Your number stays private."),
    TextKey.HANDOVER_DONE: gettext_noop(
        "You both said yes. Here is the number of {other}. From now on, numbers are not hidden."
    ),
    TextKey.SLOTS_OFFER: gettext_noop(
        "Hello! Please choose a time for booking {ref}. Times are in {zone}."
    ),
    TextKey.SLOTS_BUTTON: gettext_noop("Choose a time"),
    TextKey.SLOTS_SECTION: gettext_noop("Times"),
    TextKey.SLOT_CONFIRMED: gettext_noop("Thank you! Booking {ref} is set for {when} ({zone})."),
    TextKey.SLOT_TAKEN: gettext_noop(
        "Sorry, this time is no longer free. Please choose another one."
    ),
    TextKey.SLOT_PAST: gettext_noop("Sorry, this time has passed. Please choose another one."),
    TextKey.SLOT_REMINDER: gettext_noop("Reminder: booking {ref} is on {when} ({zone})."),
    TextKey.BOOKING_TIME: gettext_noop("Hello! Booking {ref} has a new time: {when} ({zone})."),
    TextKey.HANDOVER_OFF: gettext_noop(
        "Your numbers were not shared for booking {ref}. You can still write here."
    ),
}
SOURCE_LANGUAGE = "en"


def text_render(key: TextKey, *, language: str, **values) -> str:
    """The text `key` in `language`, with `values` in its {placeholders}."""
    return text_wording(key, language=language).format(**values)


def text_wording(key: TextKey, *, language: str) -> str:
    source = CATALOGUE[key]
    overrides = _overrides(key, language)
    for code in (language, languages.base(language)):
        if code in overrides:
            return overrides[code]
    with translation.override(language):
        translated = gettext(source)
    if translated != source:
        return translated
    return overrides.get(SOURCE_LANGUAGE, source)


def placeholders(text: str) -> set[str]:
    """The {names} a wording fills in; raises ValueError on a malformed one."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _overrides(key: TextKey, language: str) -> dict[str, str]:
    codes = {language, languages.base(language), SOURCE_LANGUAGE}
    rows = TextOverride.objects.filter(key=key, language__in=codes)
    return dict(rows.values_list("language", "text"))


MARKER_TEXTS = {
    LeakKind.PHONE: TextKey.NUMBER_HIDDEN,
    LeakKind.EMAIL: TextKey.EMAIL_HIDDEN,
    LeakKind.URL: TextKey.LINK_HIDDEN,
}


class Markers(dict):
    """What the privacy guard writes in place of each kind of contact detail, in the reader's
    language, worded on first use: most texts hide nothing."""

    def __init__(self, language: Callable[[], str]) -> None:
        super().__init__()
        self._language = language

    def __missing__(self, kind: str) -> str:
        self[kind] = text_render(MARKER_TEXTS[kind], language=self._language())
        return self[kind]


def text_alias(participant: Participant, *, language: str) -> str:
    """What the other side calls `participant`: a name, never a number."""
    if participant.alias:
        return participant.alias
    key = TextKey.PARTNER if participant.role == Role.PARTNER else TextKey.CUSTOMER
    return text_render(key, language=language)
