"""The REST API under /api/v1/: the shapes DESIGN.md fixes, auth, validation, privacy."""

import json
import re

import pytest
from rest_framework.test import APIClient

from relay.api.authentication import api_key_create
from relay.choices import MessageStatus
from relay.models import Contact, MaskingPool, Message, Participant, ProxyNumber, RelaySession
from relay.services.sessions import session_close
from routing.models import Partner, PartnerContact
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write
from tests.relay.factories import (
    InboundMessageFactory,
    OutboundMessageFactory,
    PoolFactory,
    ProxyNumberFactory,
    partner_with_contact,
)

OTHER_CUSTOMER = "+14155550999"


def session_payload(**overrides) -> dict:
    payload = {
        "external_ref": "BK-1001",
        "workflow": "booking",
        "mode": "direct",
        "customer": {"name": "Sam", "phone": CUSTOMER},
        "partner": "loc-a",
    }
    return {**payload, **overrides}


def assert_no_real_numbers(response, *numbers: str) -> None:
    text = response.content.decode()
    for number in numbers or (CUSTOMER, PARTNER):
        assert number.lstrip("+") not in text
        assert number[-7:] not in text  # nor written without its country code


def counts() -> tuple[int, ...]:
    models = [MaskingPool, ProxyNumber, Partner, PartnerContact, Contact, RelaySession, Message]
    return tuple(model.objects.count() for model in models)


# Authentication


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/pools/"),
        ("post", "/api/v1/pools/"),
        ("get", "/api/v1/numbers/"),
        ("get", "/api/v1/partners/"),
        ("post", "/api/v1/partners/"),
        ("get", "/api/v1/sessions/"),
        ("post", "/api/v1/sessions/"),
    ],
)
def test_requests_without_a_key_get_401(db, method, path):
    response = getattr(APIClient(), method)(path, {"name": "default"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer sb_not-a-key", "Bearer ", "Token sb_whatever", "Basic dXNlcjpwYXNz"]
)
def test_a_wrong_key_gets_401_and_writes_nothing(pool, partner, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    before = counts()

    assert client.post("/api/v1/pools/", {"name": "x"}, format="json").status_code == 401
    response = client.post("/api/v1/sessions/", session_payload(), format="json")

    assert response.status_code == 401
    assert counts() == before


def test_a_revoked_key_gets_401(db):
    api_key, key = api_key_create(name="old-crm")
    api_key.revoked_at = api_key.created_at
    api_key.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client.get("/api/v1/pools/").status_code == 401


# Pools and numbers


def test_pool_create_returns_id_and_name(api):
    response = api.post("/api/v1/pools/", {"name": "default"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "default"
    assert MaskingPool.objects.get(pk=body["id"]).name == "default"
    assert body["multiplexing"] is True and body["partner"] is None


def test_pool_can_be_reserved_for_a_partner_without_multiplexing(api, partner):
    response = api.post(
        "/api/v1/pools/",
        {"name": "hub-only", "partner": "loc-a", "multiplexing": False},
        format="json",
    )

    assert response.status_code == 201
    pool = MaskingPool.objects.get(pk=response.json()["id"])
    assert pool.partner == partner and pool.multiplexing is False


def test_pool_list_and_retrieve(api, pool):
    listed = api.get("/api/v1/pools/").json()
    retrieved = api.get(f"/api/v1/pools/{pool.pk}/").json()

    assert [p["name"] for p in listed["results"]] == ["default"]
    assert retrieved["id"] == pool.pk and retrieved["name"] == "default"


def test_pool_with_a_taken_name_is_400_naming_name(api, pool):
    response = api.post("/api/v1/pools/", {"name": "default"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()
    assert MaskingPool.objects.count() == 1


def test_number_create_returns_the_normalised_number(api, pool):
    response = api.post(
        "/api/v1/numbers/",
        {"e164": "+1 555 000 1009", "phone_number_id": "1009", "pool": pool.pk, "kind": "relay"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["e164"] == "+15550001009"
    assert body["pool"] == pool.pk and body["kind"] == "relay" and body["active"] is True
    assert ProxyNumber.objects.get(pk=body["id"]).e164 == "+15550001009"


def test_intake_number_can_be_created(api, pool):
    response = api.post(
        "/api/v1/numbers/",
        {"e164": "+15550002000", "phone_number_id": "2000", "pool": pool.pk, "kind": "intake"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["kind"] == "intake"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"e164": "15550001009"}, "e164"),
        ({"e164": "+1 not a number"}, "e164"),
        ({"e164": "+1 555 000 1001"}, "e164"),  # taken, once normalised
        ({"phone_number_id": "1001"}, "phone_number_id"),
        ({"kind": "other"}, "kind"),
        ({"pool": 9999}, "pool"),
    ],
)
def test_bad_number_is_400_naming_the_field_and_writes_nothing(api, pool, changes, field):
    payload = {"e164": "+15550001009", "phone_number_id": "1009", "pool": pool.pk, "kind": "relay"}
    before = counts()

    response = api.post("/api/v1/numbers/", {**payload, **changes}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert counts() == before


def test_number_without_plus_says_so(api, pool):
    payload = {"e164": "15550001009", "phone_number_id": "1009", "pool": pool.pk, "kind": "relay"}

    response = api.post("/api/v1/numbers/", payload, format="json")

    assert "starting with +" in response.json()["e164"][0]


def test_number_list_filters_by_pool_and_retrieve(api, pool):
    other = ProxyNumberFactory(pool=PoolFactory(name="other"), e164="+15550003000")

    listed = api.get("/api/v1/numbers/", {"pool": pool.pk}).json()["results"]
    retrieved = api.get(f"/api/v1/numbers/{other.pk}/").json()

    assert [n["e164"] for n in listed] == ["+15550001001", "+15550001002"]
    assert retrieved["e164"] == "+15550003000"


def test_number_can_be_deactivated_but_not_renumbered(api, pool):
    number = pool.numbers.first()

    response = api.patch(
        f"/api/v1/numbers/{number.pk}/", {"active": False, "e164": "+15559999999"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    number.refresh_from_db()
    assert number.active is False and number.e164 == "+15550001001"


# Partners


def partner_payload(**overrides) -> dict:
    payload = {
        "code": "loc-b",
        "name": "Harbour Hub",
        "kind": "location",
        "contacts": [{"name": "Ana", "phone": "+447700900456", "role": "manager"}],
    }
    return {**payload, **overrides}


def test_partner_create_returns_contacts_with_masked_numbers_only(api):
    response = api.post("/api/v1/partners/", partner_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "loc-b" and body["name"] == "Harbour Hub" and body["kind"] == "location"
    [contact] = body["contacts"]
    assert contact["name"] == "Ana" and contact["role"] == "manager"
    assert contact["masked_phone"] == "+44 •••• 456"
    assert set(contact) == {"id", "name", "role", "language", "masked_phone"}
    assert_no_real_numbers(response, "+447700900456")
    assert PartnerContact.objects.get(pk=contact["id"]).contact.phone == "+447700900456"


def test_partner_contact_who_already_exists_is_reused(api, partner):
    payload = partner_payload(contacts=[{"name": "Ana", "phone": PARTNER}])

    response = api.post("/api/v1/partners/", payload, format="json")

    assert response.status_code == 201
    assert Contact.objects.filter(partner_roles__isnull=False).distinct().count() == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"code": "loc-a"}, "code"),
        ({"code": "not a slug"}, "code"),
        ({"kind": "castle"}, "kind"),
        ({"name": ""}, "name"),
        ({"contacts": [{"name": "Ana", "phone": "07700 900456"}]}, "contacts"),
        ({"contacts": [{"phone": "+447700900456"}]}, "contacts"),
        (
            {
                "contacts": [
                    {"name": "Ana", "phone": "+447700900456"},
                    {"name": "Bo", "phone": "+44 7700 900456"},
                ]
            },
            "contacts",
        ),
    ],
)
def test_bad_partner_is_400_naming_the_field_and_writes_nothing(api, partner, changes, field):
    before = counts()

    response = api.post("/api/v1/partners/", partner_payload(**changes), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert counts() == before


def test_partner_whose_contact_is_one_of_our_numbers_is_refused_and_nothing_is_created(api, pool):
    contacts = [
        {"name": "Ana", "phone": "+447700900456"},
        {"name": "Desk", "phone": "+15550001001"},
    ]
    before = counts()

    response = api.post("/api/v1/partners/", partner_payload(contacts=contacts), format="json")

    assert response.status_code == 422
    assert "phone" in response.json()
    assert counts() == before


def test_partner_retrieve_by_code_hides_the_real_number(api, partner):
    response = api.get("/api/v1/partners/loc-a/")

    assert response.status_code == 200
    assert response.json()["code"] == "loc-a" and response.json()["name"] == partner.name
    assert response.json()["contacts"][0]["masked_phone"] == "+44 •••• 123"
    assert_no_real_numbers(response, PARTNER)
    missing = api.get("/api/v1/partners/nope/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "partner not found"}


def test_partner_list_queries_do_not_grow_with_partners(
    api, partner, django_assert_max_num_queries
):
    for n in range(5):
        partner_with_contact(f"+44770090050{n}", code=f"loc-{n}")
        partner_with_contact(f"+44770090060{n}", code=f"sat-{n}")

    with django_assert_max_num_queries(7):
        response = api.get("/api/v1/partners/")

    assert response.json()["count"] == 11
    assert all(len(p["contacts"]) == 1 for p in response.json()["results"])


# Sessions


def test_session_create_returns_proxy_numbers(api, pool, partner):
    response = api.post("/api/v1/sessions/", session_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert {"id", "external_ref", "status", "participants"} <= set(body)
    assert body["external_ref"] == "BK-1001" and body["status"] == "open"
    customer, partner_side = body["participants"]
    assert customer["role"] == "customer" and customer["name"] == "Sam"
    assert partner_side["role"] == "partner"
    assert partner_side["name"] == partner.contacts.get().name
    pool_numbers = {"+15550001001", "+15550001002"}
    assert {customer["proxy_number"], partner_side["proxy_number"]} <= pool_numbers
    assert_no_real_numbers(response)
    session = RelaySession.objects.get(pk=body["id"])
    assert participant(session, "customer").contact.phone == CUSTOMER


def test_session_create_takes_pool_partner_contact_and_ttl(api, pool, partner):
    contact = partner.contacts.get()
    other_pool = PoolFactory(name="other")
    ProxyNumberFactory(pool=other_pool, e164="+15550004000")
    payload = session_payload(
        mode="mediated", pool=other_pool.pk, partner_contact=contact.pk, ttl_hours=2
    )

    response = api.post("/api/v1/sessions/", payload, format="json")

    assert response.status_code == 201
    session = RelaySession.objects.get(pk=response.json()["id"])
    assert session.pool == other_pool and session.mode == "mediated"
    assert session.ttl.total_seconds() == 2 * 3600
    assert {p["proxy_number"] for p in response.json()["participants"]} == {"+15550004000"}


def test_session_create_with_unknown_partner_is_400_naming_partner(api, pool, partner):
    before = counts()

    response = api.post("/api/v1/sessions/", session_payload(partner="nope"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["partner"]
    assert counts() == before


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"customer": {"name": "Sam", "phone": "4155550123"}}, "customer"),
        ({"customer": {"name": "Sam"}}, "customer"),
        ({"customer": "Sam"}, "customer"),
        ({"external_ref": ""}, "external_ref"),
        ({"mode": "telepathy"}, "mode"),
        ({"pool": 9999}, "pool"),
        ({"ttl_hours": 0}, "ttl_hours"),
        ({"partner_contact": 9999}, "partner_contact"),
    ],
)
def test_bad_session_is_400_naming_the_field_and_writes_nothing(api, pool, partner, changes, field):
    before = counts()

    response = api.post("/api/v1/sessions/", session_payload(**changes), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert counts() == before


def test_session_without_required_fields_names_each_of_them(api, pool):
    response = api.post("/api/v1/sessions/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"external_ref", "customer", "partner"}


def test_session_with_another_partners_contact_is_400(api, pool, partner):
    other = partner_with_contact("+447700900777", code="loc-z")
    payload = session_payload(partner_contact=other.contacts.get().pk)

    response = api.post("/api/v1/sessions/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["partner_contact"]


def test_session_create_is_409_when_the_pool_is_exhausted_and_creates_nothing(
    api, open_session, partner
):
    small = PoolFactory(name="small", multiplexing=False)
    ProxyNumberFactory(pool=small, e164="+15550005000")
    open_session(pool=small)  # the partner's contact now holds the only number
    before = counts()

    payload = session_payload(
        external_ref="BK-1002", pool=small.pk, customer={"name": "Kim", "phone": OTHER_CUSTOMER}
    )
    response = api.post("/api/v1/sessions/", payload, format="json")

    assert response.status_code == 409
    assert "no number left" in response.json()["pool"][0]
    assert counts() == before  # not even the new customer's contact


def test_session_list_filters_by_external_ref(api, open_session):
    open_session("BK-1001")
    wanted = open_session("BK-2002", customer=OTHER_CUSTOMER)

    response = api.get("/api/v1/sessions/", {"external_ref": "BK-2002"})

    assert response.status_code == 200
    [session] = response.json()["results"]
    assert session["id"] == wanted.pk and session["external_ref"] == "BK-2002"
    assert [p["role"] for p in session["participants"]] == ["customer", "partner"]
    assert_no_real_numbers(response, CUSTOMER, OTHER_CUSTOMER, PARTNER)


def test_session_list_filters_by_status(api, open_session):
    session_close(session=open_session("BK-1001"))
    open_session("BK-2002", customer=OTHER_CUSTOMER)

    response = api.get("/api/v1/sessions/", {"status": "closed"})

    assert [s["external_ref"] for s in response.json()["results"]] == ["BK-1001"]


def test_session_list_queries_do_not_grow_with_sessions(
    api, open_session, django_assert_max_num_queries
):
    for n in range(8):
        open_session(f"BK-{n}", customer=f"+1415555020{n}")

    # Sessions, participants, legs, the pool's invitation templates, SLA clocks; key, count,
    # page.
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/sessions/")

    assert response.json()["count"] == 8
    assert all(len(s["participants"]) == 2 for s in response.json()["results"])


def test_session_retrieve_shows_participants_and_hides_real_numbers(api, open_session):
    session = open_session()

    response = api.get(f"/api/v1/sessions/{session.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == session.pk and body["live"] is True and body["partner"] == "loc-a"
    proxies = {p["role"]: p["proxy_number"] for p in body["participants"]}
    assert proxies["customer"] == participant(session, "customer").proxy_number.e164
    assert_no_real_numbers(response)
    missing = api.get("/api/v1/sessions/9999/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "session not found"}


def test_session_close_then_close_again_is_409(api, open_session):
    session = open_session()

    closed = api.post(f"/api/v1/sessions/{session.pk}/close/", {"reason": "checked out"})
    again = api.post(f"/api/v1/sessions/{session.pk}/close/")

    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["closed_reason"] == "checked out"
    assert again.status_code == 409
    assert "already closed" in again.json()["detail"]
    assert not Participant.objects.filter(session=session, active=True).exists()


def test_session_reopen_brings_a_closed_session_back(api, open_session):
    session = open_session()
    session_close(session=session)

    response = api.post(f"/api/v1/sessions/{session.pk}/reopen/")

    assert response.status_code == 200
    assert response.json()["status"] == "active" and response.json()["live"] is True
    assert api.post(f"/api/v1/sessions/{session.pk}/reopen/").status_code == 409


# Messages and transcripts


def test_message_to_the_customer_is_queued_from_the_customers_proxy_number(api, open_session):
    session = open_session()
    customer = participant(session, "customer")

    response = api.post(
        f"/api/v1/sessions/{session.pk}/messages/",
        {"to": "customer", "text": "Your room is ready"},
        format="json",
    )

    assert response.status_code == 201
    [message] = response.json()
    assert message["from"] == "relay" and message["to"] == "customer"
    assert message["body"] == "Your room is ready" and message["status"] == "queued"
    assert message["origin"] == "api" and message["direction"] == "out"
    stored = Message.objects.get(pk=message["id"])
    assert stored.contact == customer.contact and stored.proxy_number == customer.proxy_number
    assert_no_real_numbers(response)


def test_a_long_message_is_queued_as_several(api, open_session):
    session = open_session()

    response = api.post(
        f"/api/v1/sessions/{session.pk}/messages/",
        {"to": "partner", "text": "word " * 1500},
        format="json",
    )

    assert response.status_code == 201
    assert len(response.json()) == 2
    assert {m["to"] for m in response.json()} == {"partner"}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"to": "agent", "text": "hi"}, "to"),
        ({"to": "customer", "text": ""}, "text"),
        ({"to": "customer", "text": "   "}, "text"),
        ({"text": "hi"}, "to"),
    ],
)
def test_bad_message_is_400_naming_the_field(api, open_session, payload, field):
    session = open_session()

    response = api.post(f"/api/v1/sessions/{session.pk}/messages/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Message.objects.exists()


def test_message_to_a_closed_session_is_409(api, open_session):
    session = open_session()
    session_close(session=session)

    response = api.post(
        f"/api/v1/sessions/{session.pk}/messages/", {"to": "customer", "text": "hi"}
    )

    assert response.status_code == 409
    assert not Message.objects.exists()


def test_transcript_lists_messages_in_order_with_roles(
    api, open_session, whatsapp_api, post_webhook
):
    session = open_session()
    customer = participant(session, "customer")
    write(post_webhook, CUSTOMER, customer.proxy_number, body="Is room 4 free at 3?")
    api.post(f"/api/v1/sessions/{session.pk}/messages/", {"to": "customer", "text": "Yes"})

    response = api.get(f"/api/v1/sessions/{session.pk}/transcript/")

    assert response.status_code == 200
    messages = response.json()["results"]
    first = messages[0]
    assert (first["direction"], first["from"], first["to"]) == ("in", "customer", "relay")
    assert first["body"] == "Is room 4 free at 3?"
    relayed = next(m for m in messages if m["origin"] == "relayed")
    assert (relayed["from"], relayed["to"]) == ("customer", "partner")
    assert messages[-1]["body"] == "Yes" and messages[-1]["to"] == "customer"
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)
    expected = {"id", "direction", "from", "to", "type", "body", "status", "created_at"}
    assert expected | {"delivered_at", "read_at"} <= set(first)


def test_transcript_hides_contact_details_a_participant_typed(
    api, open_session, whatsapp_api, post_webhook
):
    session = open_session()
    customer = participant(session, "customer")
    write(post_webhook, CUSTOMER, customer.proxy_number, body=f"call me on {CUSTOMER}")

    response = api.get(f"/api/v1/sessions/{session.pk}/transcript/")

    assert response.json()["results"][0]["body"] == "call me on [number hidden]"
    assert_no_real_numbers(response)


def test_transcript_queries_do_not_grow_with_messages(
    api, open_session, django_assert_max_num_queries
):
    session = open_session()
    customer = participant(session, "customer")
    inbound = InboundMessageFactory(participant=customer, status=MessageStatus.RELAYED)
    partner_side = participant(session, "partner")
    OutboundMessageFactory.create_batch(10, participant=partner_side, source=inbound)

    with django_assert_max_num_queries(8):  # the session's answer carries its SLA clocks
        response = api.get(f"/api/v1/sessions/{session.pk}/transcript/")

    assert response.json()["count"] == 11
    assert {m["from"] for m in response.json()["results"][1:]} == {"customer"}


# Schema and docs


def test_schema_lists_every_api_path(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/pools/",
        "/api/v1/numbers/",
        "/api/v1/partners/",
        "/api/v1/partners/{code}/",
        "/api/v1/sessions/",
        "/api/v1/sessions/{id}/",
        "/api/v1/sessions/{id}/close/",
        "/api/v1/sessions/{id}/transcript/",
        "/api/v1/sessions/{id}/messages/",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    create = schema["paths"]["/api/v1/sessions/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SessionCreate"
    )


def test_docs_page_uses_only_local_static_files(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page loads Swagger UI from somewhere"
    # Our static files, and the page's own script (served apart for the CSP).
    assert all(asset.startswith(("/static/", "/api/docs/?script")) for asset in assets), assets
    assert "cdn." not in html and "unpkg" not in html


def test_partner_without_a_kind_is_an_other(api, pool):
    payload = {
        "code": "loc-k",
        "name": "Kindless",
        "contacts": [{"name": "Ana", "phone": "+447700900456"}],
    }
    response = api.post("/api/v1/partners/", payload, format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "other"


def test_asking_again_for_a_live_booking_returns_the_same_session(api, pool, partner):
    first = api.post("/api/v1/sessions/", session_payload(), format="json")
    again = api.post("/api/v1/sessions/", session_payload(), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (
        api.post(f"/api/v1/sessions/{first.json()['id']}/close/", {}, format="json").status_code
        == 200
    )
    # Ended, the booking's session is reopened rather than a second one opened
    # (tests/crm_sync/test_booking_sessions.py).
    back = api.post("/api/v1/sessions/", session_payload(), format="json")
    assert (back.status_code, back.json()["id"]) == (200, first.json()["id"])
