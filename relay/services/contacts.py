from functools import lru_cache

from relay import crypto, phones
from relay.exceptions import RelayError
from relay.inserts import insert_unless_present
from relay.models import Contact
from relay.prefetch import prefetch_put
from relay.selectors import OUR_NUMBER, contact_find, phone_is_ours


def contact_get_or_create(*, phone: str, name: str = "", language: str = "") -> Contact:
    """The contact with real number `phone` (E.164), created on first sight. A `language`
    given (normalised, e.g. "pt-BR") becomes theirs."""
    if phone_is_ours(phone):
        raise RelayError(OUR_NUMBER, field="phone")
    contact = contact_find(phone=phone)
    if contact is None:
        contact = Contact(display_name=name, language=language)
        contact.phone = phone
        contact = _create_or_fetch(contact, phone_hash=contact.phone_hash)
    if language and contact.language != language:
        contact_set_language(contact=contact, language=language)
    return contact


def contact_set_language(*, contact: Contact, language: str) -> Contact:
    contact.language = language
    Contact.objects.filter(pk=contact.pk).update(language=language)
    return contact


def contact_for_sender(*, wa_id: str | None, bsuid: str | None, profile_name: str = "") -> Contact:
    """The contact a webhook sender is: found by phone, else by business-scoped user id.

    A sender seen with both links the two, so that later messages carrying only the BSUID
    still find the same contact.
    """
    phone = _phone_from_wa_id(wa_id) if wa_id else None
    contact = contact_find(phone=phone) if phone else None
    if contact is None and bsuid:
        contact = Contact.objects.filter(bsuid_hash=crypto.lookup_hash(bsuid)).first()
    if contact is None:
        contact = Contact(display_name=profile_name)
        if phone:
            contact.phone = phone
        if bsuid:
            contact.bsuid = bsuid
        key = {"phone_hash": contact.phone_hash} if phone else {"bsuid_hash": contact.bsuid_hash}
        return _create_or_fetch(contact, **key)
    _link_identities(contact, phone=phone, bsuid=bsuid)
    return contact


def contacts_prefetch(wa_ids: set[str]) -> dict[str, Contact]:
    """Read the contacts of a round's senders in one query (relay/prefetch.py); by wa_id."""
    hashes = {crypto.lookup_hash(_phone_from_wa_id(wa_id)): wa_id for wa_id in wa_ids}
    found = {}
    for contact in Contact.objects.filter(phone_hash__in=hashes):
        prefetch_put("contact", contact.phone_hash, contact)
        found[hashes[contact.phone_hash]] = contact
    return found


def contact_change_number(*, contact: Contact, wa_id: str) -> bool:
    """WhatsApp says this user moved to number `wa_id`. False if another contact already has
    that number (then both stay as they are, for an operator to look at)."""
    phone = _phone_from_wa_id(wa_id)
    if Contact.objects.filter(phone_hash=crypto.lookup_hash(phone)).exclude(pk=contact.pk).exists():
        return False
    contact.phone = phone
    contact.save(update_fields=["phone_ciphertext", "phone_hash"])
    return True


def _link_identities(contact: Contact, *, phone: str | None, bsuid: str | None) -> None:
    changed = []
    if phone and not contact.phone_hash:
        contact.phone = phone
        changed += ["phone_ciphertext", "phone_hash"]
    bsuid_is_new = bsuid and contact.bsuid != bsuid
    if bsuid_is_new and not Contact.objects.filter(bsuid_hash=crypto.lookup_hash(bsuid)).exists():
        contact.bsuid = bsuid
        changed += ["bsuid_ciphertext", "bsuid_hash"]
    if changed:
        contact.save(update_fields=changed)


@lru_cache(maxsize=4096)  # parsing a number costs more than the rest of finding its contact
def _phone_from_wa_id(wa_id: str) -> str:
    try:
        return phones.normalise_e164(wa_id, require_plus=False)
    except phones.InvalidPhoneNumber:
        return "+" + "".join(ch for ch in wa_id if ch.isdigit())


def _create_or_fetch(contact: Contact, **unique) -> Contact:
    """Insert, or return the row a concurrent request inserted first."""
    if insert_unless_present(contact):
        return contact
    return Contact.objects.get(**unique)
