"""Quotes (seed 003): a workshop's `/quote 1200 USD 3 weeks` waits for an agent, who adds the
aggregator's margin; the client receives the final price only, never the workshop's."""

import pytest

from relay.choices import EventKind, QuoteStatus, SessionMode
from relay.models import Contact, Quote, RelaySession
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write
from tests.relay.texts import english


@pytest.fixture
def inquiry(session):
    """A bespoke jewellery inquiry, mediated by the aggregator's agents."""
    RelaySession.objects.filter(pk=session.pk).update(
        workflow="bespoke-inquiry", mode=SessionMode.MEDIATED, booking_status="inquiry"
    )
    session.refresh_from_db()
    return session


def partner_writes(post_webhook, session, text: str) -> None:
    write(post_webhook, PARTNER, participant(session, "partner").proxy_number, body=text)


def send(api, run_tasks, session, quote, **data):
    url = f"/api/v1/sessions/{session.pk}/quotes/{quote.pk}/send/"
    return run_tasks(api.post, url, data, format="json")


def test_the_client_receives_the_price_with_margin_and_never_the_workshops(
    api, run_tasks, whatsapp_api, post_webhook, inquiry
):
    partner_writes(post_webhook, inquiry, "/quote 1200 USD 3 weeks")
    quote = Quote.objects.get()

    assert whatsapp_api.texts_to(CUSTOMER) == []
    assert whatsapp_api.texts_to(PARTNER) == [english("command_done", name="quote", ref="BK-1001")]
    assert api.get(f"/api/v1/sessions/{inquiry.pk}/quotes/").json()[0]["amount"] == "1200.00"

    answer = send(api, run_tasks, inquiry, quote, margin_percent="15", terms="Insured delivery.")

    assert answer.status_code == 200 and answer.json()["final_amount"] == "1380.00"
    assert whatsapp_api.texts_to(CUSTOMER) == [
        english("quote_offer", ref="BK-1001", price="1,380 USD", lead_time="3 weeks")
        + "\nInsured delivery."
    ]
    sent_to_client = whatsapp_api.everything_sent_to(CUSTOMER)
    assert "1200" not in sent_to_client and "1,200" not in sent_to_client
    inquiry.refresh_from_db()
    assert inquiry.booking_status == "quoted"
    kinds = list(inquiry.timeline.values_list("kind", flat=True))
    assert kinds.index(EventKind.QUOTE_RECEIVED) < kinds.index(EventKind.QUOTE_SENT)
    sent = inquiry.timeline.get(kind=EventKind.QUOTE_SENT)
    assert sent.detail == {"quote": quote.pk, "amount": "1380.00", "currency": "USD"}


def test_a_margin_as_an_amount_and_a_fixed_lead_time(
    api, run_tasks, whatsapp_api, post_webhook, inquiry
):
    partner_writes(post_webhook, inquiry, "/QUOTE_24HRS $450.50")
    quote = Quote.objects.get()

    send(api, run_tasks, inquiry, quote, margin_amount="49.50")

    assert whatsapp_api.texts_to(CUSTOMER) == [
        english("quote_offer", ref="BK-1001", price="500 USD", lead_time="1 day")
    ]


def test_a_new_quote_supersedes_the_pending_one(post_webhook, inquiry):
    partner_writes(post_webhook, inquiry, "/quote 1200 USD 3 weeks")
    partner_writes(post_webhook, inquiry, "/quote 1100 USD 4 weeks")

    statuses = list(Quote.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [QuoteStatus.SUPERSEDED, QuoteStatus.PENDING]
    assert inquiry.timeline.filter(kind=EventKind.QUOTE_SUPERSEDED).count() == 1


@pytest.mark.parametrize(
    "text, problem",
    [
        ("/quote 1200 3 weeks", "is not a currency"),
        ("/quote 1200 USD", "the time is missing"),
        ("/quote USD", "is not an amount"),
        ("/quote 0 USD 1 week", "must be more than 0"),
    ],
)
def test_a_quote_written_wrongly_is_refused_in_private(
    whatsapp_api, post_webhook, inquiry, text, problem
):
    partner_writes(post_webhook, inquiry, text)

    assert not Quote.objects.exists()
    assert whatsapp_api.texts_to(PARTNER) == [
        english("command_wrong", name="quote", usage="/quote <money> <duration> [text]")
    ]
    assert whatsapp_api.texts_to(CUSTOMER) == []
    assert not inquiry.timeline.filter(kind=EventKind.QUOTE_RECEIVED).exists()


@pytest.mark.parametrize(
    "data",
    [{}, {"margin_percent": "15", "margin_amount": "10"}, {"margin_percent": "lots"}],
)
def test_a_margin_given_wrongly_is_400_and_sends_nothing(
    api, run_tasks, whatsapp_api, post_webhook, inquiry, data
):
    partner_writes(post_webhook, inquiry, "/quote 1200 USD 3 weeks")

    answer = send(api, run_tasks, inquiry, Quote.objects.get(), **data)

    assert answer.status_code == 400 and "margin_percent" in answer.json()
    assert Quote.objects.get().status == QuoteStatus.PENDING
    assert whatsapp_api.texts_to(CUSTOMER) == []


def test_a_quote_is_sent_once(api, run_tasks, whatsapp_api, post_webhook, inquiry):
    partner_writes(post_webhook, inquiry, "/quote 1200 USD 3 weeks")
    quote = Quote.objects.get()
    send(api, run_tasks, inquiry, quote, margin_percent="15")

    again = send(api, run_tasks, inquiry, quote, margin_percent="20")

    assert again.status_code == 422 and "sent to the customer" in again.json()["detail"]
    assert len(whatsapp_api.texts_to(CUSTOMER)) == 1


def test_a_customer_cannot_quote(whatsapp_api, post_webhook, inquiry):
    write(
        post_webhook,
        CUSTOMER,
        participant(inquiry, "customer").proxy_number,
        body="/quote 5 USD 1 day",
    )

    assert not Quote.objects.exists()
    assert whatsapp_api.texts_to(CUSTOMER) == [english("command_not_allowed", name="quote")]


def test_the_price_is_told_in_the_clients_language(
    api, run_tasks, whatsapp_api, post_webhook, inquiry
):
    Contact.objects.filter(pk=participant(inquiry, "customer").contact_id).update(language="es")
    partner_writes(post_webhook, inquiry, "/quote 1200 USD 3 weeks")

    send(api, run_tasks, inquiry, Quote.objects.get(), margin_percent="15")

    assert whatsapp_api.texts_to(CUSTOMER) == [
        "¡Hola! Este es el precio para BK-1001: 1,380 USD. Puede estar listo en 3 semanas."
    ]
