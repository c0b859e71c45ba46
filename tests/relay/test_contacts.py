"""Contacts: real numbers encrypted at rest, found by keyed hash, BSUIDs kept verbatim."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction

from relay import crypto
from relay.choices import EventKind
from relay.models import AppendOnlyError, Contact, Participant, TimelineEvent
from relay.phones import InvalidPhoneNumber, mask, normalise_e164
from relay.services.contacts import contact_for_sender, contact_get_or_create


def test_the_real_number_is_not_stored_in_clear(db):
    contact = contact_get_or_create(phone="+14155550123")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM relay_contact WHERE id = %s", [contact.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "4155550123" not in row
    assert Contact.objects.get(pk=contact.pk).phone == "+14155550123"


def test_the_same_number_finds_the_same_contact(db):
    assert contact_get_or_create(phone="+14155550123") == contact_get_or_create(
        phone="+14155550123"
    )
    assert contact_for_sender(wa_id="14155550123", bsuid=None).phone == "+14155550123"


def test_a_bsuid_is_kept_verbatim_and_never_made_a_phone_number(db):
    contact = contact_for_sender(wa_id=None, bsuid="US.ENT.11815799212886844830")
    assert contact.bsuid == "US.ENT.11815799212886844830"
    assert contact.phone == ""
    assert contact_for_sender(wa_id=None, bsuid="US.ENT.11815799212886844830") == contact


def test_a_wrong_encryption_key_is_a_clear_configuration_error(db, settings):
    contact = contact_get_or_create(phone="+14155550123")
    settings.FIELD_ENCRYPTION_KEY = "YW5vdGhlci1rZXktYW5vdGhlci1rZXktYW5vdGhlciE="
    with pytest.raises(ImproperlyConfigured, match="does not match"):
        Contact.objects.get(pk=contact.pk).phone  # noqa: B018
    settings.FIELD_ENCRYPTION_KEY = "short"
    crypto._fernet.cache_clear()
    with pytest.raises(ImproperlyConfigured, match="32-byte"):
        crypto.encrypt("x")


def test_sealed_payloads_and_fernet_tokens_both_read_back_and_neither_with_another_key(
    db, settings
):
    sealed, fernet = crypto.seal("a body +14155550123"), crypto.encrypt("a body +14155550123")

    assert sealed.startswith(crypto.SEALED) and "4155550123" not in sealed
    assert crypto.decrypt(sealed) == crypto.decrypt(fernet) == "a body +14155550123"
    assert crypto.seal("same") != crypto.seal("same")  # a new nonce each time
    settings.FIELD_ENCRYPTION_KEY = "YW5vdGhlci1rZXktYW5vdGhlci1rZXktYW5vdGhlciE="
    for token in (sealed, fernet):
        with pytest.raises(ImproperlyConfigured, match="does not match"):
            crypto.decrypt(token)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("14155550123", "international format"),
        ("+1 23", "not a p"),
        ("+abc", "not a phone number"),
    ],
)
def test_numbers_must_be_international_and_possible(raw, error):
    with pytest.raises(InvalidPhoneNumber, match=error):
        normalise_e164(raw)


def test_numbers_are_normalised_and_masked():
    assert normalise_e164("+44 (0)7700 900-123".replace("(0)", "")) == "+447700900123"
    assert mask("+447700900123") == "+44 •••• 123"


def test_the_timeline_is_append_only(db):
    event = TimelineEvent.objects.create(kind=EventKind.SESSION_OPENED)
    event.kind = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(pk=event.pk).update(kind="changed")
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.all().delete()


def test_a_session_cannot_take_a_third_participant(open_session):
    session = open_session()
    customer = session.participants.get(role="customer")
    other = contact_get_or_create(phone="+14155550999")
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(
            session=session,
            role="customer",
            contact=other,
            proxy_number=customer.proxy_number,
            thread_tag="ZZZZ",
        )


def test_webhook_payloads_and_inbound_messages_keep_no_number_in_clear(db, post_webhook, pool):
    from relay.models import Message, WebhookPayload
    from tests.relay import wa

    post_webhook(wa.envelope("1001", messages=[wa.message("+14155550123", body="hi")]))

    with connection.cursor() as cursor:
        cursor.execute("SELECT body_ciphertext FROM relay_webhookpayload")
        assert "4155550123" not in cursor.fetchone()[0]
    assert "4155550123" in WebhookPayload.objects.get().body
    assert "4155550123" not in str(Message.objects.get(direction="in").payload)
