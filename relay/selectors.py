from django.conf import settings
from django.utils import timezone

from relay import crypto, languages
from relay.choices import LIVE_SESSION_STATUSES, Role, TemplateStatus
from relay.models import Contact, MaskingPool, MessageTemplate, ProxyNumber, RelaySession
from routing.models import Partner


def session_find_live(
    *, external_ref: str, partner: Partner, customer_phone: str
) -> RelaySession | None:
    """The live session already open for this booking, partner and customer, if any: asking
    again (a client retrying after a timeout) must not open a second one."""
    return (
        RelaySession.objects.filter(
            external_ref=external_ref,
            partner=partner,
            status__in=LIVE_SESSION_STATUSES,
            expires_at__gt=timezone.now(),
            participants__role=Role.CUSTOMER,
            participants__contact__phone_hash=crypto.lookup_hash(customer_phone),
        )
        .order_by("-pk")
        .first()
    )


OUR_NUMBER = "is one of our own WhatsApp numbers"


def phone_is_ours(phone: str) -> bool:
    return ProxyNumber.objects.filter(e164=phone).exists()


def contact_find(*, phone: str) -> Contact | None:
    """The contact with real number `phone` (E.164), found by its lookup hash."""
    return Contact.objects.filter(phone_hash=crypto.lookup_hash(phone)).first()


def contact_language(contact: Contact, pool: MaskingPool | None) -> str:
    """What Switchboard writes to `contact` in: their own language, else the pool's."""
    return contact.language or (pool.language if pool else "") or settings.LANGUAGE_CODE


def reader_language(contact: Contact, proxy_number: ProxyNumber) -> str:
    """The language of someone reached through `proxy_number`."""
    return contact_language(contact, proxy_number.pool)


def invitation_template(pool: MaskingPool, language: str) -> MessageTemplate | None:
    """The approved version of the pool's invitation in `language` (or the same language of
    another region); else the pool's own; None when no approved one can go."""
    default = pool.notice_template
    if default is None:
        return None
    sendable = [
        template
        for template in MessageTemplate.objects.filter(
            account=default.account, name=default.name, status=TemplateStatus.APPROVED
        )
        if template.invitation_problem() is None
    ]
    in_language = [t for t in sendable if languages.matches(t.language, language)]
    if in_language:
        return max(
            in_language, key=lambda t: (languages.matches(t.language, language), t == default)
        )
    return default if default in sendable else None
