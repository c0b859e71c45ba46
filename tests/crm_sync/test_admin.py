"""CRM endpoints in the admin: the secret shown once, a paused endpoint resumed."""

from crm_sync.models import Endpoint
from crm_sync.services import endpoint_create


def test_an_endpoint_made_in_the_admin_shows_its_secret_once(admin_client):
    answer = admin_client.post(
        "/admin/crm_sync/endpoint/add/",
        {"url": "https://crm.example.com/hooks", "events": '["*"]', "active": "on"},
        follow=True,
    )

    endpoint = Endpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in answer.text  # once, in the message after saving
    assert (
        endpoint.secret
        not in admin_client.get(f"/admin/crm_sync/endpoint/{endpoint.pk}/change/").text
    )


def test_the_admin_refuses_unknown_event_types(admin_client):
    answer = admin_client.post(
        "/admin/crm_sync/endpoint/add/",
        {"url": "https://crm.example.com/hooks", "events": '["booking.moved"]'},
    )

    assert answer.status_code == 200 and "unknown event types booking.moved" in answer.text
    assert not Endpoint.objects.exists()


def test_a_paused_endpoint_is_resumed_from_the_admin(admin_client, db):
    endpoint, _ = endpoint_create(url="https://crm.example.com/hooks", events=["*"])
    Endpoint.objects.filter(pk=endpoint.pk).update(
        paused_reason="down", paused_at="2026-12-01T00:00Z"
    )

    admin_client.post(
        "/admin/crm_sync/endpoint/",
        {"action": "resume", "_selected_action": [endpoint.pk]},
    )

    endpoint.refresh_from_db()
    assert endpoint.paused_at is None and endpoint.paused_reason == ""
