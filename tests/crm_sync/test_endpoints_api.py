"""CRM endpoints and the outbox through the API (DESIGN.md, "CRM endpoints")."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm_sync.models import Delivery, DeliveryStatus, Endpoint, OutboxEvent
from tests.crm_sync.conftest import send_all


def create(api, **fields):
    body = {"url": "https://crm.example.com/hooks", "events": ["booking.status_changed"]}
    return api.post("/api/v1/endpoints/", body | fields, format="json")


def test_an_endpoint_is_created_with_a_secret_shown_once(api):
    answer = create(api)

    assert answer.status_code == 201
    body = answer.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert (body["url"], body["events"]) == (
        "https://crm.example.com/hooks",
        ["booking.status_changed"],
    )
    shown = api.get(f"/api/v1/endpoints/{body['id']}/").json()
    assert "secret" not in shown and body["secret"] not in str(shown)
    assert body["secret"] not in Endpoint.objects.get().secret_ciphertext  # kept encrypted


@pytest.mark.parametrize(
    "fields, field, problem",
    [
        ({"url": "ftp://crm.example.com"}, "url", "http or https"),
        ({"url": "not a url"}, "url", "Enter a valid URL"),
        ({"events": []}, "events", "list the event types"),
        ({"events": ["booking.moved"]}, "events", "unknown event types booking.moved"),
        ({"events": "booking.status_changed"}, "events", "list the event types"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_creates_nothing(api, fields, field, problem):
    answer = create(api, **fields)

    assert answer.status_code == 400 and problem in str(answer.json()[field])
    assert not Endpoint.objects.exists()


def test_loopback_and_private_addresses_are_refused_unless_allowed(api, settings):
    settings.CRM_ALLOW_PRIVATE_URLS = False

    for url in ("http://127.0.0.1:8000/hooks", "http://10.0.0.5/hooks", "http://localhost/x"):
        answer = create(api, url=url)
        assert answer.status_code == 400, url
        assert "loopback or private" in answer.json()["url"][0]
    assert not Endpoint.objects.exists()


def test_rotating_gives_a_new_secret_and_keeps_the_old_one_for_a_day(api):
    created = create(api).json()

    rotated = api.post(f"/api/v1/endpoints/{created['id']}/rotate-secret/")

    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    endpoint = Endpoint.objects.get()
    assert endpoint.secret == rotated.json()["secret"]
    left = endpoint.previous_secret_expires_at - timezone.now()
    assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24)


def test_attempts_and_the_outbox_are_listed_and_replayed(api, receiver, open_session):
    endpoint = create(api, url=receiver.url, events=["*"]).json()
    open_session("BK-7", customer="+14155550007")
    open_session("BK-8", customer="+14155550008")
    receiver.script = [500]
    send_all()

    attempts = api.get(f"/api/v1/endpoints/{endpoint['id']}/attempts/").json()
    events = api.get("/api/v1/events/", {"external_ref": "BK-7"}).json()["results"]

    assert [event["type"] for event in events] == ["session.opened"]
    assert set(events[0]) == {"id", "type", "timestamp", "data"}
    assert events[0]["id"].startswith("evt_")
    assert [(a["status_code"], a["error"]) for a in attempts] == [
        (200, ""),
        (500, "answered 500"),
    ]  # newest first
    assert set(attempts[0]) == {"event_id", "status_code", "error", "duration_ms", "at"}

    replayed = api.post(f"/api/v1/events/{events[0]['id']}/replay/")

    assert replayed.status_code == 202
    assert Delivery.objects.get(event__event_id=events[0]["id"]).status == DeliveryStatus.PENDING


def test_an_endpoint_replays_what_was_dead_lettered_since_a_time(api, receiver, open_session):
    endpoint = create(api, url=receiver.url, events=["*"]).json()
    open_session()
    send_all()
    Delivery.objects.update(status=DeliveryStatus.DEAD)
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    answer = api.post(f"/api/v1/endpoints/{endpoint['id']}/replay/", {"since": since})
    future = api.post(
        f"/api/v1/endpoints/{endpoint['id']}/replay/",
        {"since": (timezone.now() + timedelta(days=1)).isoformat()},
    )
    bad = api.post(f"/api/v1/endpoints/{endpoint['id']}/replay/", {"since": "yesterday"})

    assert (answer.status_code, answer.json()) == (202, {"replayed": 1})
    assert future.status_code == 422 and "future" in str(future.json())
    assert bad.status_code == 400 and "since" in bad.json()
    send_all()
    assert receiver.taken == [OutboxEvent.objects.get().event_id] * 2


def test_an_unknown_event_or_endpoint_is_404(api):
    assert api.post("/api/v1/events/evt_nothing/replay/").status_code == 404
    assert api.get("/api/v1/endpoints/999/attempts/").status_code == 404


def test_without_a_key_nothing_is_shown(client, db):
    assert client.get("/api/v1/endpoints/").status_code in (401, 403)
