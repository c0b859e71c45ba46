"""What crosses the relay: redaction, media, replies, reactions, cards, unsupported types."""

import logging

import pytest

from relay.choices import MessageStatus, TextKey
from relay.models import LeakageAttempt, Message, MessageTemplate, OperatorAlert, RelaySession
from relay.privacy import MARKERS, redact
from tests.relay import wa
from tests.relay.conftest import CUSTOMER, PARTNER, open_windows, participant, write
from tests.relay.fake_graph import b64_sha256
from tests.relay.texts import english


@pytest.fixture
def customer_writes(post_webhook, session):
    number = participant(session, "customer").proxy_number
    return lambda **kwargs: write(post_webhook, CUSTOMER, number, **kwargs)


@pytest.fixture
def partner_writes(post_webhook, session):
    number = participant(session, "partner").proxy_number
    return lambda **kwargs: write(post_webhook, PARTNER, number, **kwargs)


class TestPrivacyGuard:
    @pytest.mark.parametrize(
        ("text", "kind", "left"),
        [
            ("call me on +44 7700 900123", "phone", "call me on "),
            ("my cell is (415) 555-0198", "phone", "my cell is "),
            ("nine digits 9 8 7 6 5 4 3 2 1 0", "phone", "nine digits "),
            ("dots 447.700.900.123 work", "phone", "dots  work"),
            ("dashes 0-7-7-0-0-9-0-0-1-2-3", "phone", "dashes "),
            ("tel07700900123", "phone", "tel "),
            ("seven seven zero zero nine zero zero one two three", "phone", ""),
            ("write to sam.jones@example.com", "email", "write to "),
            ("sam at example dot com", "email", ""),
            ("mail sam [at] example [dot] co [dot] uk", "email", "mail "),
            ("sam(at)gmail(dot)com", "email", ""),
            ("sam @ gmail . com", "email", ""),
            ("see https://example.com/me", "url", "see "),
            ("wa.me/447700900123", "url", ""),
            ("shop at atelier.jewelry/rings", "url", "shop at "),
            ("Booking.com is cheaper", "url", " is cheaper"),
            ("book on example.xn--p1ai", "url", "book on "),
        ],
    )
    def test_contact_details_are_replaced_by_a_marker(self, text, kind, left):
        result = redact(text, region="GB")
        assert result.found == {kind: 1}
        assert result.text.replace(MARKERS[kind], "") == left
        assert MARKERS[kind] in result.text

    @pytest.mark.parametrize(
        "text",
        [
            "Desk 12 at 3pm",
            "Booking BK-1001, 250 USD",
            "on 12/05/2026 at 14:30",
            "2026-12-02",
            "INV-2026-000123 is paid",
            "PO# 4500012346 shipped",
            "order no. 88120034 is ready",
            "invoice 2026000123",
            "tracking number 1Z999AA10123456784",
            "container MSCU1234567 left",
            "meet me at the hotel",
            "price 3.50, 1,500,000 INR",
            "invoice.pdf attached, see catalogue.zip",
            "done.Now we go",
            "e.g. version 1.2.3",
        ],
    )
    def test_ordinary_text_and_references_are_left_alone(self, text):
        result = redact(text, region="GB")
        assert (result.text, dict(result.found)) == (text, {})

    def test_a_reference_does_not_shield_a_number_next_to_it(self):
        result = redact("PO 4500012346, call 07700 900123", region="GB")
        assert result.text == "PO 4500012346, call [number hidden]"

    def test_numbers_in_relayed_text_are_hidden_and_recorded(
        self, whatsapp_api, session, customer_writes
    ):
        customer_writes(body="Text me at +1 415 555 0123 or sam@example.com instead")

        [body] = whatsapp_api.texts_to(PARTNER)
        assert body == "Text me at [number hidden] or [e-mail hidden] instead"
        kinds = dict(LeakageAttempt.objects.filter(session=session).values_list("kind", "count"))
        assert kinds == {"phone": 1, "email": 1}

    def test_a_handed_over_session_relays_text_unchanged(
        self, whatsapp_api, session, customer_writes
    ):
        RelaySession.objects.filter(pk=session.pk).update(handed_over=True)
        customer_writes(body="My number is +1 415 555 0123")
        assert whatsapp_api.texts_to(PARTNER) == ["My number is +1 415 555 0123"]
        assert not LeakageAttempt.objects.exists()

    def test_nothing_sent_to_the_partner_carries_the_customers_identity(
        self, whatsapp_api, session, customer_writes, post_webhook
    ):
        sha = whatsapp_api.add_media("m1")
        customer_writes(body="hi, I'm Sam Real-Name")
        customer_writes(
            type="image",
            image={
                "id": "m1",
                "mime_type": "image/jpeg",
                "sha256": sha,
                "caption": "me: +14155550123",
            },
        )
        customer_writes(
            type="document",
            document={
                "id": "m1",
                "mime_type": "application/pdf",
                "sha256": sha,
                "filename": "call 4155550123.pdf",
            },
        )
        customer_writes(
            type="location",
            location={
                "latitude": 1.0,
                "longitude": 2.0,
                "name": "Home",
                "address": "ring +1 415 555 0123",
            },
        )
        customer_writes(
            type="contacts",
            contacts=[
                {
                    "name": {"formatted_name": "Sam"},
                    "phones": [{"phone": "+1 415 555 0123", "wa_id": "14155550123"}],
                }
            ],
        )

        leaked = whatsapp_api.everything_sent_to(PARTNER)
        for identifier in ("14155550123", "415 555 0123", "4155550123", "Someone"):
            assert identifier not in leaked
        assert len([p for p in whatsapp_api.sent if p["to"] == PARTNER]) == 5

    def test_a_contact_card_is_described_not_forwarded(
        self, whatsapp_api, session, customer_writes
    ):
        customer_writes(
            type="contacts",
            contacts=[
                {"name": {"formatted_name": "Dr Lee"}, "phones": [{"phone": "+1 415 555 0100"}]}
            ],
        )
        [body] = whatsapp_api.texts_to(PARTNER)
        assert body == english(TextKey.CONTACT_CARD, names="Dr Lee")
        assert LeakageAttempt.objects.get().kind == "phone"

    def test_a_handed_over_session_forwards_the_card_itself(
        self, whatsapp_api, session, customer_writes
    ):
        RelaySession.objects.filter(pk=session.pk).update(handed_over=True)
        card = {"name": {"formatted_name": "Dr Lee"}, "phones": [{"phone": "+1 415 555 0100"}]}
        customer_writes(type="contacts", contacts=[card])
        assert whatsapp_api.last_to(PARTNER)["contacts"] == [card]

    def test_logs_carry_no_numbers_and_no_message_text(
        self, whatsapp_api, session, customer_writes, caplog
    ):
        with caplog.at_level(logging.DEBUG):
            customer_writes(body="secret plans for Tuesday")
        assert whatsapp_api.texts_to(PARTNER) == ["secret plans for Tuesday"]
        for record in caplog.records:
            line = record.getMessage()
            assert "14155550123" not in line and "447700900123" not in line
            assert "secret plans" not in line


class TestMedia:
    def test_media_is_fetched_with_the_token_and_reuploaded_to_the_sending_number(
        self, whatsapp_api, session, customer_writes
    ):
        sha = whatsapp_api.add_media("img-1", b"\xff\xd8 jpeg bytes")
        customer_writes(
            type="image",
            image={
                "id": "img-1",
                "mime_type": "image/jpeg",
                "sha256": sha,
                "caption": "the broken chair",
            },
        )

        [upload] = whatsapp_api.uploads
        partner_number = participant(session, "partner").proxy_number.phone_number_id
        assert upload["bytes"] == b"\xff\xd8 jpeg bytes" and upload["number"] == partner_number
        sent = whatsapp_api.last_to(PARTNER)
        assert sent["image"] == {"id": "uploaded1", "caption": "the broken chair"}

    def test_an_expired_download_url_is_fetched_again_once(
        self, whatsapp_api, session, customer_writes
    ):
        sha = whatsapp_api.add_media("img-2")
        whatsapp_api.media_404_once.add("img-2")
        customer_writes(
            type="image", image={"id": "img-2", "mime_type": "image/jpeg", "sha256": sha}
        )
        assert whatsapp_api.last_to(PARTNER)["type"] == "image"

    def test_media_that_does_not_match_its_checksum_is_not_sent(
        self, whatsapp_api, session, customer_writes
    ):
        whatsapp_api.add_media("img-3")
        customer_writes(
            type="image",
            image={"id": "img-3", "mime_type": "image/jpeg", "sha256": b64_sha256(b"x")},
        )
        assert [p for p in whatsapp_api.sent if p["to"] == PARTNER] == []
        assert Message.objects.get(origin="relayed").status == MessageStatus.FAILED
        assert whatsapp_api.texts_to(CUSTOMER) == [english(TextKey.UNDELIVERED)]

    def test_oversized_media_is_refused_and_the_sender_told(
        self, whatsapp_api, session, customer_writes
    ):
        big = b"x" * (500 * 1024 + 1)
        sha = whatsapp_api.add_media("sticker-1", big)
        customer_writes(
            type="sticker", sticker={"id": "sticker-1", "mime_type": "image/webp", "sha256": sha}
        )
        relayed = Message.objects.get(origin="relayed")
        assert relayed.status == MessageStatus.FAILED and "at most 100 KB" in relayed.error_message
        assert "at most 100 KB" in whatsapp_api.texts_to(CUSTOMER)[0]
        assert whatsapp_api.uploads == []

    def test_an_animated_sticker_may_be_larger(self, whatsapp_api, session, customer_writes):
        sha = whatsapp_api.add_media("sticker-2", b"x" * (300 * 1024))
        sticker = {"id": "sticker-2", "mime_type": "image/webp", "sha256": sha, "animated": True}
        customer_writes(type="sticker", sticker=sticker)
        assert whatsapp_api.last_to(PARTNER)["sticker"] == {"id": "uploaded1"}

    def test_a_file_whatsapp_cannot_send_is_refused_before_upload(
        self, whatsapp_api, session, customer_writes
    ):
        sha = whatsapp_api.add_media("zip-1")
        document = {
            "id": "zip-1",
            "mime_type": "application/zip",
            "sha256": sha,
            "filename": "a.zip",
        }
        customer_writes(type="document", document=document)
        assert whatsapp_api.uploads == []
        assert whatsapp_api.texts_to(CUSTOMER) == [
            english(TextKey.FILE_TYPE_REFUSED, type="application/zip")
        ]


class TestRepliesAndReactions:
    def test_a_quoted_reply_quotes_the_matching_message_on_the_other_side(
        self, whatsapp_api, session, customer_writes, partner_writes
    ):
        original = customer_writes(body="Is parking included?")
        relayed = Message.objects.get(source__provider_message_id=original["id"])

        partner_writes(
            body="Yes", context={"from": "15550001001", "id": relayed.provider_message_id}
        )

        reply = whatsapp_api.last_to(CUSTOMER)
        assert reply["context"] == {"message_id": original["id"]}

    def test_an_unknown_quoted_message_is_dropped_but_the_text_relayed(
        self, whatsapp_api, session, partner_writes
    ):
        partner_writes(body="Sure", context={"from": "15550001001", "id": "wamid.unknown"})
        sent = whatsapp_api.last_to(CUSTOMER)
        assert sent["text"]["body"] == "Sure" and "context" not in sent

    def test_a_reaction_is_mirrored_onto_the_other_sides_copy(
        self, whatsapp_api, session, customer_writes, partner_writes
    ):
        original = customer_writes(body="Thanks!")
        relayed = Message.objects.get(source__provider_message_id=original["id"])

        partner_writes(
            type="reaction", reaction={"message_id": relayed.provider_message_id, "emoji": "👍"}
        )
        partner_writes(type="reaction", reaction={"message_id": relayed.provider_message_id})

        reactions = [p for p in whatsapp_api.sent if p["type"] == "reaction"]
        assert [r["reaction"] for r in reactions] == [
            {"message_id": original["id"], "emoji": "👍"},
            {"message_id": original["id"], "emoji": ""},  # removed
        ]
        assert all(r["to"] == CUSTOMER for r in reactions)


class TestUnsupported:
    @pytest.mark.parametrize(
        "item",
        [
            {
                "type": "unsupported",
                "unsupported": {"type": "poll_update"},
                "errors": [{"code": 131051, "title": "Message type unknown"}],
            },
            {"type": "order", "order": {"catalog_id": "1"}},
        ],
        ids=["unsupported", "order"],
    )
    def test_unsupported_messages_get_a_notice_and_nothing_crosses(
        self, whatsapp_api, session, customer_writes, item
    ):
        customer_writes(**item)
        assert [p for p in whatsapp_api.sent if p["to"] == PARTNER] == []
        assert whatsapp_api.texts_to(CUSTOMER) == [english(TextKey.UNSUPPORTED)]


class TestMediatedMode:
    def test_mediated_sessions_keep_inbound_for_an_agent(
        self, whatsapp_api, open_session, post_webhook
    ):
        session = open_session(mode="mediated")
        open_windows(session)
        write(
            post_webhook,
            CUSTOMER,
            participant(session, "customer").proxy_number,
            body="What's your best price?",
        )
        assert whatsapp_api.sent == []
        assert Message.objects.get(direction="in").status == MessageStatus.AWAITING_AGENT


class TestManagementWebhooks:
    def test_a_paused_template_is_marked_and_alerted(self, db, post_webhook, pool):
        value = {
            "event": "PAUSED",
            "message_template_id": 1,
            "message_template_name": "new_message_notice",
            "message_template_language": "en_US",
            "reason": "LOW_QUALITY",
        }
        post_webhook(wa.envelope("1001", field="message_template_status_update", value=value))

        assert MessageTemplate.objects.get(name="new_message_notice").status == "PAUSED"
        assert OperatorAlert.objects.filter(kind="template_status").exists()

    def test_quality_updates_are_surfaced(self, db, post_webhook):
        value = {
            "display_phone_number": "15550001001",
            "event": "DOWNGRADE",
            "current_limit": "TIER_250",
        }
        post_webhook(wa.envelope("1001", field="phone_number_quality_update", value=value))
        assert OperatorAlert.objects.filter(kind="phone_number_quality_update").exists()


def test_an_interactive_reply_with_nothing_to_show_gets_a_notice(
    whatsapp_api, session, customer_writes
):
    customer_writes(
        type="interactive", interactive={"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}
    )
    assert [p for p in whatsapp_api.sent if p["to"] == PARTNER] == []
    assert whatsapp_api.texts_to(CUSTOMER) == [english(TextKey.UNSUPPORTED)]
