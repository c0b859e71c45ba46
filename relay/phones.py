"""Phone number parsing and display. Real numbers are E.164 strings everywhere inside."""

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def normalise_e164(raw: str, *, require_plus: bool = True) -> str:
    """Return the E.164 form of `raw`, or raise InvalidPhoneNumber saying why."""
    text = (raw or "").strip()
    if require_plus and not text.startswith("+"):
        raise InvalidPhoneNumber(
            "must be in international format, starting with + and country code"
        )
    if not require_plus and not text.startswith("+"):
        text = "+" + text  # WhatsApp sends wa_id digits with the country code and no +
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber("is not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber("is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or None
    except phonenumbers.NumberParseException:
        return None


def mask(e164: str) -> str:
    """`+447700900123` -> `+44 •••• 123`: enough to tell numbers apart, not to call one."""
    if not e164:
        return ""
    try:
        code = phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        return "••••"
    return f"+{code} •••• {e164[-3:]}"
