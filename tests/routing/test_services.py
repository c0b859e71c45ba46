import pytest

from relay.exceptions import RelayError
from relay.models import Contact
from routing.models import Partner
from routing.services.partners import PartnerContactInput, partner_create
from tests.relay.factories import ProxyNumberFactory


def test_partner_create_stores_contacts_with_encrypted_numbers(db):
    partner = partner_create(
        code="loc-a",
        name="Downtown Hub",
        kind="location",
        contacts=[PartnerContactInput(name="Ana", phone="+447700900123", role="manager")],
    )

    contact = partner.contacts.get()
    assert (contact.name, contact.role) == ("Ana", "manager")
    assert contact.contact.phone == "+447700900123"
    assert "447700900123" not in contact.contact.phone_ciphertext


def test_partner_create_reuses_a_known_contact(db):
    ana = PartnerContactInput(name="Ana", phone="+447700900123")
    partner_create(code="loc-a", name="A", kind="location", contacts=[ana])

    partner_create(code="loc-b", name="B", kind="location", contacts=[ana])

    assert Contact.objects.count() == 1


def test_partner_create_leaves_nothing_when_a_contact_is_refused(db):
    ProxyNumberFactory(e164="+15550001001")
    contacts = [
        PartnerContactInput(name="Ana", phone="+447700900123"),
        PartnerContactInput(name="Desk", phone="+15550001001"),
    ]

    with pytest.raises(RelayError):
        partner_create(code="loc-a", name="A", kind="location", contacts=contacts)

    assert not Partner.objects.exists()
    assert not Contact.objects.exists()


def test_partners_take_specializations_and_tags_through_the_api(api):
    body = {
        "code": "workshop-platinum",
        "name": "Workshop Platinum",
        "kind": "workshop",
        "specializations": ["Platinum Setting", "Gemstone Sourcing"],
        "tags": ["AV-equipped"],
        "contacts": [{"name": "Luca", "phone": "+393400000003", "role": "production"}],
    }

    answer = api.post("/api/v1/partners/", body, format="json")
    again = api.post(
        "/api/v1/partners/",
        body | {"code": "workshop-2", "specializations": ["platinum setting"], "contacts": []},
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["specializations"] == ["Gemstone Sourcing", "Platinum Setting"]
    assert answer.json()["tags"] == ["AV-equipped"]
    assert answer.json()["contacts"][0]["role"] == "production"
    assert again.json()["specializations"] == ["Platinum Setting"]  # the same label, any case
