"""Switchboard's own texts: one catalogue, translated, in each reader's language, and
rewordable by an admin without a deploy."""

import gettext
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

import relay
from relay.choices import TextKey
from relay.languages import InvalidLanguage, normalise
from relay.models import Contact, TextOverride
from relay.texts import CATALOGUE, placeholders, text_render
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write
from tests.relay.texts import english

SHIPPED = ["es", "fr", "de", "pt", "hi"]
LOCALE = Path(relay.__file__).parent / "locale"


@pytest.mark.parametrize("language", SHIPPED)
def test_every_text_is_translated_with_the_same_placeholders(language):
    compiled = gettext.translation("django", LOCALE, languages=[language])
    for key, source in CATALOGUE.items():
        assert source in compiled._catalog, (language, key)  # "Partner" is German too
        with translation.override(language):
            translated = translation.gettext(source)
        assert translated == compiled._catalog[source]
        assert placeholders(translated) == placeholders(source), (language, key)


@pytest.mark.parametrize(
    ("given", "kept"), [("es", "es"), ("PT_br", "pt-BR"), ("zh-hant", "zh-Hant"), ("fil", "fil")]
)
def test_language_codes_are_normalised(given, kept):
    assert normalise(given) == kept


@pytest.mark.parametrize("given", ["", "english", "e", "es-", "12"])
def test_bad_language_codes_are_refused(given):
    with pytest.raises(InvalidLanguage):
        normalise(given)


def test_a_stranger_is_answered_in_the_pools_language(whatsapp_api, pool, post_webhook):
    pool.language = "es"
    pool.save()

    write(post_webhook, "+14155550777", pool.numbers.first(), body="hola?")

    assert whatsapp_api.texts_to("+14155550777") == [text_render(TextKey.STRANGER, language="es")]
    assert whatsapp_api.texts_to("+14155550777")[0].startswith("¡Hola!")


def test_markers_are_written_in_the_readers_language(whatsapp_api, session, post_webhook):
    Contact.objects.filter(partner_roles__isnull=False).update(language="fr-CA")

    write(
        post_webhook,
        CUSTOMER,
        participant(session, "customer").proxy_number,
        body="call +1 415 555 0123",
    )

    assert whatsapp_api.texts_to(PARTNER) == ["call [numéro masqué]"]


def test_an_admins_wording_comes_first_then_the_translation_then_english(db):
    TextOverride.objects.create(key=TextKey.ENDED, language="en", text="This booking is over.")
    TextOverride.objects.create(key=TextKey.ENDED, language="de", text="Die Buchung ist vorbei.")

    assert text_render(TextKey.ENDED, language="de-AT") == "Die Buchung ist vorbei."
    assert text_render(TextKey.ENDED, language="es") == "Lo sentimos, esta reserva está " + (
        "cerrada, así que no pudimos enviar su mensaje."
    )
    # Nothing in Japanese: the English wording serves, the admin's own first.
    assert text_render(TextKey.ENDED, language="ja") == "This booking is over."
    assert text_render(TextKey.UNDELIVERED, language="ja") == english(TextKey.UNDELIVERED)


def test_an_admin_rewords_a_text_keeping_its_placeholders(admin_client, db):
    add = reverse("admin:relay_textoverride_add")
    lost = {"key": TextKey.WHICH_BOOKING_ROW, "language": "EN", "text": "With someone"}
    kept = {"key": TextKey.WHICH_BOOKING_ROW, "language": "EN", "text": "Talking to {name}"}

    refused = admin_client.post(add, lost)
    saved = admin_client.post(add, kept)

    assert "Keep the placeholders of the original exactly: {name}." in refused.content.decode()
    assert saved.status_code == 302
    assert TextOverride.objects.get().language == "en"
    assert text_render(TextKey.WHICH_BOOKING_ROW, language="en", name="Ana") == "Talking to Ana"


def test_languages_are_set_through_the_api(api, pool):
    partner = api.post(
        "/api/v1/partners/",
        {
            "code": "ws-1",
            "name": "Atelier",
            "kind": "workshop",
            "contacts": [{"name": "Ana", "phone": PARTNER, "language": "pt_br"}],
        },
        format="json",
    )
    session = api.post(
        "/api/v1/sessions/",
        {
            "external_ref": "BK-1",
            "customer": {"name": "Sam", "phone": CUSTOMER, "language": "es"},
            "partner": "ws-1",
        },
        format="json",
    )
    refused = api.post(
        "/api/v1/sessions/",
        {
            "external_ref": "BK-2",
            "customer": {"phone": "+14155550999", "language": "Spanish"},
            "partner": "ws-1",
        },
        format="json",
    )

    assert (partner.status_code, session.status_code) == (201, 201)
    assert partner.json()["contacts"][0]["language"] == "pt-BR"
    languages = dict(Contact.objects.values_list("display_name", "language"))
    assert languages == {"Ana": "pt-BR", "Sam": "es"}
    assert refused.status_code == 400
    assert "language code" in refused.json()["customer"]["language"][0]


def test_a_contacts_language_is_set_in_the_admin(admin_client, partner):
    contact = Contact.objects.get()
    page = reverse("admin:relay_contact_change", args=[contact.pk])

    response = admin_client.post(page, {"language": "hi"})

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.language == "hi"
