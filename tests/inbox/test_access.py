"""Who sees what in the inbox: agents their teams' sessions, supervisors all; a session out of
sight answers 404 on every inbox URL, for reading and for acting, and changes nothing."""

import pytest

from relay.models import Message, Note, RelaySession
from tests.inbox.conftest import agent_user, logged_in

pytestmark = pytest.mark.django_db


def inbox_urls(session_id: int, message_id: int) -> list[tuple[str, str]]:
    base = f"/inbox/sessions/{session_id}"
    reads = ["/", "/live/", "/commands/?text=/", f"/media/{message_id}/"]
    writes = [
        "/reply/",
        "/notes/",
        "/command/",
        "/status/",
        "/assign/",
        f"/held/{message_id}/forward/",
        f"/held/{message_id}/discard/",
        "/quotes/1/send/",
    ]
    return [("get", base + path) for path in reads] + [("post", base + path) for path in writes]


def test_the_inbox_asks_for_a_login(client, desk_session):
    for method, url in [("get", "/inbox/"), *inbox_urls(desk_session.pk, 1)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


def test_an_agent_of_another_team_gets_404_on_every_url(carol, desk_session):
    message = Message.objects.create(
        session=desk_session,
        participant=desk_session.participants.get(role="customer"),
        contact=desk_session.participants.get(role="customer").contact,
        proxy_number=desk_session.participants.get(role="customer").proxy_number,
        direction="in",
        origin="participant",
        type="text",
        body="hello",
        status="awaiting_agent",
    )
    client = logged_in(carol)
    data = {"text": "/close", "to": "customer", "status": "confirmed", "user": carol.pk}
    for method, url in inbox_urls(desk_session.pk, message.pk):
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code == 404, url
    desk_session.refresh_from_db()
    assert desk_session.is_live() and desk_session.assignee is None
    assert not Note.objects.exists()
    assert desk_session.messages.count() == 1
    assert "BK-1042" not in client.get("/inbox/").content.decode()


def test_agents_see_their_teams_and_supervisors_see_every_team(
    alice, carol, other_team, desk_session, open_session
):
    north = open_session("BK-2000", customer="+14155550999", team=other_team)
    boss = agent_user("boss", supervisor=True)

    def listed(user) -> set[str]:
        page = logged_in(user).get("/inbox/").content.decode()
        return {ref for ref in ("BK-1042", "BK-2000") if ref in page}

    assert listed(alice) == {"BK-1042"}
    assert listed(carol) == {"BK-2000"}
    assert listed(boss) == {"BK-1042", "BK-2000"}
    assert logged_in(boss).get(f"/inbox/sessions/{north.pk}/").status_code == 200


def test_an_agent_sees_a_session_assigned_to_them_outside_their_teams(carol, desk_session):
    RelaySession.objects.filter(pk=desk_session.pk).update(assignee=carol)
    assert logged_in(carol).get(f"/inbox/sessions/{desk_session.pk}/").status_code == 200


def test_a_user_who_is_no_agent_sees_nothing(django_user_model, desk_session):
    user = django_user_model.objects.create_user(username="visitor", password="pw")
    client = logged_in(user)
    assert "BK-1042" not in client.get("/inbox/").content.decode()
    assert client.get(f"/inbox/sessions/{desk_session.pk}/").status_code == 404


def test_agents_see_masked_identities_and_the_permitted_see_real_numbers(
    alice, desk_session, django_user_model
):
    from django.contrib.auth.models import Permission

    page = logged_in(alice).get(f"/inbox/sessions/{desk_session.pk}/").content.decode()
    assert "+14155550123" not in page and "+447700900123" not in page
    assert "+1 •••• 123" in page and "Customer · Sam" in page

    alice.user_permissions.add(Permission.objects.get(codename="view_real_number"))
    alice = django_user_model.objects.get(pk=alice.pk)  # permissions are cached per object
    page = logged_in(alice).get(f"/inbox/sessions/{desk_session.pk}/").content.decode()
    assert "+14155550123" in page


def test_a_post_without_the_csrf_token_is_refused(alice, desk_session):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(f"/inbox/sessions/{desk_session.pk}/notes/", {"text": "hi"})
    assert response.status_code == 403
    assert not Note.objects.exists()
