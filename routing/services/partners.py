"""Writes for partners and the people who answer for them."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from relay.services.contacts import contact_get_or_create, contact_set_language
from routing.models import Partner, PartnerContact, PartnerTag, Specialization


@dataclass(frozen=True)
class PartnerContactInput:
    name: str
    phone: str
    role: str = ""
    language: str = ""  # normalised, e.g. "pt-BR"; blank: the pool's


@transaction.atomic
def partner_create(
    *,
    code: str,
    name: str,
    kind: str,
    contacts: Iterable[PartnerContactInput],
    specializations: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> Partner:
    """Create a partner with its contacts. `phone` values must already be E.164.

    All or nothing: a contact that is refused (one of our own numbers) leaves no partner and
    no contact behind.
    """
    partner = Partner.objects.create(code=code, name=name, kind=kind)
    partner.specializations.set(_labels(Specialization, specializations))
    partner.tags.set(_labels(PartnerTag, tags))
    for item in contacts:
        PartnerContact.objects.create(
            partner=partner,
            contact=contact_get_or_create(phone=item.phone, name=item.name, language=item.language),
            name=item.name,
            role=item.role,
        )
    return partner


@transaction.atomic
def partner_contact_save(
    *, partner_contact: PartnerContact, phone: str = "", language: str | None = None
) -> PartnerContact:
    """Save a partner's contact; `phone` (E.164) names the person behind it, found or
    created, so that one person answering for two partners stays one contact."""
    if phone:
        partner_contact.contact = contact_get_or_create(phone=phone, name=partner_contact.name)
    if language is not None and partner_contact.contact.language != language:
        contact_set_language(contact=partner_contact.contact, language=language)
    partner_contact.save()
    return partner_contact


def _labels(model, names: Iterable[str]) -> list:
    """The labels named, made where new; "platinum setting" is the same as "Platinum Setting"."""
    labels = []
    for name in {name.strip(): None for name in names if name.strip()}:
        label = model.objects.filter(name__iexact=name).first()
        labels.append(label or model.objects.create(name=name))
    return labels
