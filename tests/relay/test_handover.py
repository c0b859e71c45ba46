"""Consented handover (seed 001): both sides are asked with buttons; only two yeses share the
real numbers (as contact cards) and stop redaction; a no, a yes taken back or 48 hours of
silence share nothing and tell whoever had agreed."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from relay.choices import EventKind, HandoverStatus
from relay.models import Handover, Message, RelaySession
from relay.services.handovers import handovers_expire
from tests.relay.conftest import CUSTOMER, PARTNER, open_windows, participant, write
from tests.relay.texts import english


@pytest.fixture
def interview(session):
    """A childcare match: a parent (the customer) and a caregiver (the partner)."""
    RelaySession.objects.filter(pk=session.pk).update(
        workflow="childcare-interview", booking_status="matched"
    )
    session.refresh_from_db()
    return session


def ask(api, run_tasks, session):
    url = f"/api/v1/sessions/{session.pk}/commands/"
    return run_tasks(api.post, url, {"text": "/handover"}, format="json")


def tap(post_webhook, session, role: str, answer: str) -> None:
    phone = CUSTOMER if role == "customer" else PARTNER
    handover = Handover.objects.latest("id")
    reply = {"id": f"handover:{handover.pk}:{answer}", "title": answer}
    write(
        post_webhook,
        phone,
        participant(session, role).proxy_number,
        type="interactive",
        interactive={"type": "button_reply", "button_reply": reply},
    )


def cards_to(whatsapp_api, phone: str) -> list[dict]:
    return [
        p["contacts"] for p in whatsapp_api.sent if p["to"] == phone and p["type"] == "contacts"
    ]


def kinds(session) -> list[str]:
    return list(
        session.timeline.filter(kind__startswith="handover.").values_list("kind", flat=True)
    )


def test_both_are_asked_with_buttons(api, run_tasks, whatsapp_api, interview):
    answer = ask(api, run_tasks, interview)

    assert answer.status_code == 200
    for phone, other in ((CUSTOMER, "Downtown Hub"), (PARTNER, "Sam")):
        sent = whatsapp_api.last_to(phone)
        assert sent["type"] == "interactive" and sent["interactive"]["type"] == "button"
        assert sent["interactive"]["body"]["text"] == english(
            "handover_ask", other=other, ref="BK-1001"
        )
        titles = [b["reply"]["title"] for b in sent["interactive"]["action"]["buttons"]]
        assert titles == [english("handover_yes"), english("handover_no")]
    assert kinds(interview) == [EventKind.HANDOVER_REQUESTED]


def test_two_yeses_share_the_numbers_and_stop_redaction(
    api, run_tasks, whatsapp_api, post_webhook, interview
):
    ask(api, run_tasks, interview)
    tap(post_webhook, interview, "customer", "yes")

    assert whatsapp_api.texts_to(CUSTOMER)[-1] == english("handover_wait", other="Downtown Hub")
    assert cards_to(whatsapp_api, CUSTOMER) == cards_to(whatsapp_api, PARTNER) == []

    tap(post_webhook, interview, "partner", "yes")

    [[to_parent]] = cards_to(whatsapp_api, CUSTOMER)
    [[to_caregiver]] = cards_to(whatsapp_api, PARTNER)
    assert to_parent["phones"][0]["phone"] == PARTNER
    assert to_parent["name"]["formatted_name"] == "Downtown Hub"
    assert to_caregiver["phones"][0]["phone"] == CUSTOMER
    assert english("handover_done", other="Sam") in whatsapp_api.texts_to(PARTNER)
    interview.refresh_from_db()
    assert interview.handed_over is True
    assert Handover.objects.get().status == HandoverStatus.COMPLETED
    assert kinds(interview) == [
        EventKind.HANDOVER_REQUESTED,
        EventKind.HANDOVER_ACCEPTED,
        EventKind.HANDOVER_ACCEPTED,
        EventKind.HANDOVER_COMPLETED,
    ]
    # From now on a number written in the thread is passed on as written.
    write(
        post_webhook,
        CUSTOMER,
        participant(interview, "customer").proxy_number,
        body="+44 7700 900456",
    )
    assert whatsapp_api.texts_to(PARTNER)[-1] == "+44 7700 900456"


def test_a_no_shares_nothing_and_tells_the_one_who_agreed(
    api, run_tasks, whatsapp_api, post_webhook, interview
):
    ask(api, run_tasks, interview)
    tap(post_webhook, interview, "customer", "yes")

    tap(post_webhook, interview, "partner", "no")

    assert cards_to(whatsapp_api, CUSTOMER) == cards_to(whatsapp_api, PARTNER) == []
    assert whatsapp_api.texts_to(PARTNER)[-1] == english("handover_kept")
    assert whatsapp_api.texts_to(CUSTOMER)[-1] == english("handover_off", ref="BK-1001")
    interview.refresh_from_db()
    assert interview.handed_over is False
    assert Handover.objects.get().status == HandoverStatus.DECLINED
    assert kinds(interview)[-1] == EventKind.HANDOVER_DECLINED
    # Redaction goes on.
    write(
        post_webhook,
        PARTNER,
        participant(interview, "partner").proxy_number,
        body="+44 7700 900456",
    )
    assert "7700" not in whatsapp_api.texts_to(CUSTOMER)[-1]


def test_a_yes_can_be_taken_back_before_the_other_answers(
    api, run_tasks, whatsapp_api, post_webhook, interview
):
    ask(api, run_tasks, interview)
    tap(post_webhook, interview, "customer", "yes")
    tap(post_webhook, interview, "customer", "no")

    tap(post_webhook, interview, "partner", "yes")

    assert Handover.objects.get().status == HandoverStatus.WITHDRAWN
    assert cards_to(whatsapp_api, CUSTOMER) == cards_to(whatsapp_api, PARTNER) == []
    assert whatsapp_api.texts_to(PARTNER)[-1] == english("handover_off", ref="BK-1001")
    assert kinds(interview)[-1] == EventKind.HANDOVER_WITHDRAWN


def test_silence_for_48_hours_cancels_it(api, run_tasks, whatsapp_api, post_webhook, interview):
    ask(api, run_tasks, interview)
    tap(post_webhook, interview, "partner", "yes")

    with time_machine.travel(timezone.now() + timedelta(hours=47)):
        assert run_tasks(handovers_expire) == 0
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        assert run_tasks(handovers_expire) == 1

    assert Handover.objects.get().status == HandoverStatus.EXPIRED
    # The caregiver's 24-hour window has closed since: the notice waits for them.
    told = Message.objects.filter(participant__role="partner", origin="notice").latest("id")
    assert told.body == english("handover_off", ref="BK-1001") and told.status == "held"
    assert kinds(interview)[-1] == EventKind.HANDOVER_EXPIRED
    interview.refresh_from_db()
    assert interview.handed_over is False


def test_a_party_who_asks_has_agreed_and_only_the_other_is_asked(
    whatsapp_api, post_webhook, interview
):
    write(post_webhook, CUSTOMER, participant(interview, "customer").proxy_number, body="/handover")

    assert whatsapp_api.last_to(PARTNER)["type"] == "interactive"
    [asker] = [
        p["interactive"]
        for p in whatsapp_api.sent
        if p["type"] == "interactive" and p["to"] == CUSTOMER
    ]
    assert asker["body"]["text"] == english("handover_wait", other="Downtown Hub")
    assert [b["reply"]["title"] for b in asker["action"]["buttons"]] == [english("handover_no")]
    tap(post_webhook, interview, "partner", "yes")
    interview.refresh_from_db()
    assert interview.handed_over is True


def test_asking_twice_is_refused(api, run_tasks, interview):
    ask(api, run_tasks, interview)

    again = ask(api, run_tasks, interview)

    assert again.status_code == 400 and "asked already" in again.json()["reply"]
    assert Handover.objects.count() == 1


def test_not_in_a_workflow_that_does_not_allow_it(api, run_tasks, session):
    answer = ask(api, run_tasks, session)  # a coworking booking

    assert answer.status_code == 400 and "cannot be used here" in answer.json()["reply"]
    assert not Handover.objects.exists()


def test_the_asker_can_take_it_back_with_their_no_button(whatsapp_api, post_webhook, interview):
    write(post_webhook, CUSTOMER, participant(interview, "customer").proxy_number, body="/handover")

    tap(post_webhook, interview, "customer", "no")
    tap(post_webhook, interview, "partner", "yes")

    interview.refresh_from_db()
    assert interview.handed_over is False and cards_to(whatsapp_api, PARTNER) == []
    assert Handover.objects.get().status == HandoverStatus.WITHDRAWN


def test_a_yes_after_48_hours_shares_nothing_even_before_the_sweep(
    api, run_tasks, whatsapp_api, post_webhook, interview
):
    ask(api, run_tasks, interview)
    tap(post_webhook, interview, "customer", "yes")

    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        open_windows(interview)
        tap(post_webhook, interview, "partner", "yes")

    assert Handover.objects.get().status == HandoverStatus.EXPIRED
    assert cards_to(whatsapp_api, CUSTOMER) == cards_to(whatsapp_api, PARTNER) == []


def test_a_new_partner_agreed_to_nothing(api, run_tasks, whatsapp_api, post_webhook, interview):
    """A yes given before a reroute does not count for the partner who comes after it; numbers
    exchanged before are hidden from the new one."""
    from routing.services.bookings import booking_reroute
    from routing.services.partners import PartnerContactInput, partner_create

    ask(api, run_tasks, interview)
    tap(post_webhook, interview, "partner", "yes")
    other = partner_create(
        code="nanny-b",
        name="Bea",
        kind="caregiver",
        contacts=[PartnerContactInput(name="Bea", phone="+447700900999", role="manager")],
    )

    run_tasks(booking_reroute, session=interview, partner=other)
    tap(post_webhook, interview, "customer", "yes")

    assert Handover.objects.get().status == HandoverStatus.WITHDRAWN
    assert cards_to(whatsapp_api, CUSTOMER) == [] and cards_to(whatsapp_api, "+447700900999") == []
    interview.refresh_from_db()
    assert interview.handed_over is False


def test_not_in_a_session_that_has_ended(api, run_tasks, whatsapp_api, interview):
    RelaySession.objects.filter(pk=interview.pk).update(status="closed")

    answer = ask(api, run_tasks, interview)

    assert answer.status_code == 400 and "only in a live session" in answer.json()["reply"]
    assert not Handover.objects.exists() and whatsapp_api.sent == []
