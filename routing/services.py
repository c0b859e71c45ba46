"""Writes for partners and the people who answer for them."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from relay.services.contacts import contact_get_or_create
from routing.models import Partner, PartnerContact


@dataclass(frozen=True)
class PartnerContactInput:
    name: str
    phone: str
    role: str = ""


@transaction.atomic
def partner_create(
    *, code: str, name: str, kind: str, contacts: Iterable[PartnerContactInput]
) -> Partner:
    """Create a partner with its contacts. `phone` values must already be E.164.

    All or nothing: a contact that is refused (one of our own numbers) leaves no partner and
    no contact behind.
    """
    partner = Partner.objects.create(code=code, name=name, kind=kind)
    for item in contacts:
        PartnerContact.objects.create(
            partner=partner,
            contact=contact_get_or_create(phone=item.phone, name=item.name),
            name=item.name,
            role=item.role,
        )
    return partner
