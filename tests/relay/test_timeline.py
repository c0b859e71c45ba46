"""The session timeline: events exist exactly when their change committed, in order, with
who made the change, and are announced to other apps only after commit."""

import logging

import pytest
from django.db import transaction

from relay.choices import ActorKind, EventKind
from relay.models import RelaySession, TimelineEvent
from relay.services.sessions import PartyInput, session_open
from relay.signals import timeline_event_committed
from relay.timeline import TimelineError, timeline_record
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write


@pytest.fixture
def announced():
    """The kinds announced to receivers in other apps, in the order they were announced."""
    kinds: list[str] = []

    def receiver(sender, event, **kwargs) -> None:
        kinds.append(event.kind)

    timeline_event_committed.connect(receiver)
    yield kinds
    timeline_event_committed.disconnect(receiver)


def _open(pool, partner, ref="BK-1"):
    return session_open(
        external_ref=ref,
        workflow="booking",
        customer=PartyInput(name="Sam", phone=CUSTOMER),
        partner=partner,
        pool=pool,
    )


@pytest.mark.django_db(transaction=True)
def test_an_event_exists_exactly_when_its_change_committed(pool, partner, announced):
    with pytest.raises(RuntimeError, match="later step"), transaction.atomic():
        _open(pool, partner, "BK-rolled-back")
        raise RuntimeError("a later step of the same change failed")

    assert not RelaySession.objects.exists()
    assert not TimelineEvent.objects.exists()
    assert announced == []

    session = _open(pool, partner)

    opened = [
        EventKind.SESSION_OPENED,
        EventKind.PARTICIPANT_BOUND,
        EventKind.PARTICIPANT_BOUND,
    ]
    assert list(session.timeline.values_list("kind", flat=True)) == opened
    assert announced == opened


def test_announcements_wait_for_the_commit(
    pool, partner, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _open(pool, partner)
        assert announced == []

    for callback in callbacks:
        callback()
    assert announced[0] == EventKind.SESSION_OPENED


def test_recording_outside_a_transaction_is_refused(db):
    with pytest.raises(TimelineError, match="inside the transaction"):
        timeline_record(EventKind.SENDING_RESUMED)


def test_only_kinds_of_the_enum_are_recorded(db):
    with pytest.raises(ValueError), transaction.atomic():
        timeline_record("session.made_up")


def test_a_failing_receiver_does_not_undo_the_change(pool, partner, run_tasks, caplog, announced):
    def broken(sender, event, **kwargs) -> None:
        raise RuntimeError("receiver bug")

    timeline_event_committed.connect(broken)
    try:
        with caplog.at_level(logging.ERROR):
            session = run_tasks(_open, pool, partner)
    finally:
        timeline_event_committed.disconnect(broken)

    assert RelaySession.objects.filter(pk=session.pk).exists()
    assert announced[:1] == [EventKind.SESSION_OPENED]
    assert "RuntimeError: receiver bug" in caplog.text


def test_a_relayed_message_leaves_its_steps_in_order_with_its_writer(
    whatsapp_api, session, post_webhook
):
    customer = participant(session, "customer")
    write(post_webhook, CUSTOMER, customer.proxy_number, body="call me on +447700900999")

    events = list(session.timeline.exclude(kind=EventKind.PARTICIPANT_BOUND).order_by("id"))
    assert [e.kind for e in events] == [
        EventKind.SESSION_OPENED,
        EventKind.MESSAGE_RECEIVED,
        EventKind.MESSAGE_REDACTED,
        EventKind.MESSAGE_QUEUED,
        EventKind.MESSAGE_SENT,
        EventKind.MESSAGE_RELAYED,  # only once its copy was sent
    ]
    by_kind = {e.kind: e for e in events}
    assert by_kind[EventKind.MESSAGE_REDACTED].actor == ActorKind.CUSTOMER
    assert by_kind[EventKind.MESSAGE_REDACTED].actor_contact == customer.contact
    assert by_kind[EventKind.MESSAGE_QUEUED].actor == ActorKind.CUSTOMER
    assert by_kind[EventKind.MESSAGE_SENT].actor == ActorKind.SYSTEM
    # Identifiers and counts only: neither number nor text is on the timeline.
    details = str([e.detail for e in session.timeline.all()])
    assert "+447700900999" not in details and PARTNER not in details
    assert "call me" not in details


def test_the_api_client_that_opened_a_session_is_its_actor(api, pool, partner):
    response = api.post(
        "/api/v1/sessions/",
        {"external_ref": "BK-9", "customer": {"phone": CUSTOMER}, "partner": partner.code},
        format="json",
    )

    assert response.status_code == 201
    opened = TimelineEvent.objects.get(kind=EventKind.SESSION_OPENED)
    assert (opened.actor, opened.actor_api_key.name) == (ActorKind.API, "booking-platform")


def test_the_readme_lists_every_kind():
    from django.conf import settings

    readme = (settings.BASE_DIR / "README.md").read_text()
    missing = [kind.value for kind in EventKind if f"| `{kind.value}` |" not in readme]
    assert missing == []
