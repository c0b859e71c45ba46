"""Sessions: proxy allocation, multiplexing on a shared number, expiry, out-of-session."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from relay.choices import MessageStatus, SessionStatus, TextKey
from relay.exceptions import PoolExhausted, RelayError, SessionNotLive
from relay.models import Message, Participant, RelaySession
from relay.services.sessions import session_close, session_reopen, sessions_expire_lapsed
from tests.conftest import at_the_same_instant, skip_unless_postgresql
from tests.relay.conftest import (
    CUSTOMER,
    PARTNER,
    choose_thread,
    open_windows,
    participant,
    write,
)
from tests.relay.factories import PoolFactory, ProxyNumberFactory
from tests.relay.texts import english


def test_a_contact_gets_a_different_number_for_each_concurrent_session(open_session):
    first, second = open_session("BK-1"), open_session("BK-2")
    assert (
        participant(first, "customer").proxy_number != participant(second, "customer").proxy_number
    )
    assert not participant(second, "customer").multiplexed


def test_the_same_number_serves_sessions_of_different_people(open_session):
    first, second = open_session("BK-1"), open_session("BK-2", customer="+14155550999")
    assert (
        participant(first, "customer").proxy_number == participant(second, "customer").proxy_number
    )


def test_the_database_refuses_a_second_live_session_on_one_pair(open_session):
    session = open_session()
    held = participant(session, "customer")
    other = open_session("BK-2", customer="+14155550999")
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(session=other, role="customer").update(
            contact=held.contact, proxy_number=held.proxy_number
        )


def test_exhausted_pool_without_multiplexing_refuses_and_creates_nothing(open_session, pool):
    pool.multiplexing = False
    pool.save()
    open_session("BK-1"), open_session("BK-2")
    sessions_before = RelaySession.objects.count()

    with pytest.raises(PoolExhausted, match="no number left"):
        open_session("BK-3")

    assert RelaySession.objects.count() == sessions_before
    assert Participant.objects.count() == sessions_before * 2


def test_a_session_needs_two_different_people(open_session):
    with pytest.raises(RelayError, match="same person"):
        open_session(customer=PARTNER)


def test_our_own_number_cannot_be_a_participant(open_session):
    with pytest.raises(RelayError, match="our own"):
        open_session(customer="+15550001001")


def test_closing_frees_the_pair_and_reopening_needs_it_free(open_session, pool):
    pool.multiplexing = False
    pool.save()
    first = open_session("BK-1")
    open_session("BK-2")
    session_close(session=first)
    third = open_session("BK-3")  # takes the number the closed session freed
    assert (
        participant(third, "customer").proxy_number == participant(first, "customer").proxy_number
    )

    with pytest.raises(SessionNotLive, match="another live session"):
        session_reopen(session=first)

    session_close(session=third)
    assert session_reopen(session=first).status == SessionStatus.ACTIVE


def test_closing_twice_is_refused(open_session):
    session = open_session()
    session_close(session=session)
    with pytest.raises(SessionNotLive):
        session_close(session=session)


def test_a_stranger_gets_a_polite_reply_from_the_same_number_and_nothing_is_relayed(
    whatsapp_api, open_session, post_webhook
):
    session = open_session()
    number = participant(session, "customer").proxy_number
    stranger = "+14155550777"

    write(post_webhook, stranger, number, body="hello?")
    write(post_webhook, stranger, number, body="anyone?")

    replies = [p for p in whatsapp_api.sent if p["to"] == stranger]
    assert len(replies) == 1  # one notice, not one per message
    assert replies[0]["_from"] == number.phone_number_id
    assert replies[0]["text"]["body"] == english(TextKey.STRANGER)
    assert whatsapp_api.texts_to(PARTNER) == []
    assert Message.objects.filter(status=MessageStatus.OUT_OF_SESSION).count() == 2


def test_an_expired_session_no_longer_relays(whatsapp_api, open_session, post_webhook, clock):
    session = open_session(ttl=timedelta(hours=1))
    open_windows(session)
    clock.shift(timedelta(hours=1, seconds=1))

    write(post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body="late")

    assert whatsapp_api.texts_to(PARTNER) == []
    session.refresh_from_db()
    assert session.status == SessionStatus.EXPIRED
    assert not session.participants.filter(active=True).exists()


def test_idle_sessions_expire_on_the_sweep_and_activity_extends_them(
    whatsapp_api, open_session, post_webhook, clock
):
    day = timedelta(days=1)
    idle = open_session("BK-1", ttl=day)
    busy = open_session("BK-2", customer="+14155550999", ttl=day)
    clock.shift(timedelta(hours=23))
    open_windows(busy)
    write(
        post_webhook, "+14155550999", participant(busy, "customer").proxy_number, body="still here"
    )
    clock.shift(timedelta(hours=2))

    assert sessions_expire_lapsed() == 1

    idle.refresh_from_db(), busy.refresh_from_db()
    assert idle.status == SessionStatus.EXPIRED
    assert busy.status == SessionStatus.ACTIVE
    assert busy.expires_at == timezone.now() - timedelta(hours=2) + day


class TestOneNumberCarriesManySessions:
    """The aggregator's single WhatsApp number, shared by one customer's three bookings."""

    @pytest.fixture
    def sessions(self, open_session, single_number_pool, partner):
        sessions = [open_session(f"BK-{i}", pool=single_number_pool) for i in (1, 2, 3)]
        for session in sessions:
            open_windows(session)
        return sessions

    def test_every_session_gets_the_single_number_with_its_own_tag(self, sessions):
        customers = [participant(s, "customer") for s in sessions]
        assert {c.proxy_number.e164 for c in customers} == {"+15550009999"}
        assert len({c.thread_tag for c in customers}) == 3
        assert [c.multiplexed for c in customers] == [True, True, True]  # all share it

    def test_outbound_messages_carry_the_thread_tag(self, whatsapp_api, sessions, post_webhook):
        number = participant(sessions[1], "partner").proxy_number
        # The partner, also on the one number in three sessions, answers with a tag.
        tag = participant(sessions[1], "partner").thread_tag
        write(post_webhook, PARTNER, number, body=f"#{tag} Your desk is ready")

        body = whatsapp_api.texts_to(CUSTOMER)[-1]
        customer_tag = participant(sessions[1], "customer").thread_tag
        assert body.startswith(f"#{customer_tag} · BK-2\n")
        assert body.endswith("Your desk is ready")
        assert f"#{tag}" not in body.split("\n", 1)[1]

    def test_a_reply_to_a_relayed_message_finds_its_session(
        self, whatsapp_api, sessions, post_webhook
    ):
        customer = participant(sessions[2], "customer")
        tag = participant(sessions[2], "partner").thread_tag
        write(post_webhook, PARTNER, customer.proxy_number, body=f"#{tag} Room 4 at 3pm?")
        relayed = Message.objects.filter(contact=customer.contact, direction="out").latest("id")

        write(
            post_webhook,
            CUSTOMER,
            customer.proxy_number,
            body="Yes please",
            context={"from": "15550009999", "id": relayed.provider_message_id},
        )

        reply = Message.objects.filter(
            contact__in=[participant(sessions[2], "partner").contact], direction="out"
        ).latest("id")
        assert reply.session_id == sessions[2].pk
        assert reply.body.endswith("Yes please")

    def test_a_typed_tag_finds_its_session(self, whatsapp_api, sessions, post_webhook):
        customer = participant(sessions[0], "customer")
        write(
            post_webhook,
            CUSTOMER,
            customer.proxy_number,
            body=f"#{customer.thread_tag.lower()} is wifi included?",
        )

        relayed = Message.objects.filter(
            direction="out", session=sessions[0], origin="relayed"
        ).get()
        assert relayed.body.endswith("is wifi included?")

    def test_an_untagged_message_asks_which_booking_then_follows_the_choice(
        self, whatsapp_api, sessions, post_webhook
    ):
        number = participant(sessions[0], "customer").proxy_number
        write(post_webhook, CUSTOMER, number, body="Can I bring a guest?")
        write(post_webhook, CUSTOMER, number, body="And park a car?")

        lists = [p for p in whatsapp_api.sent if p["to"] == CUSTOMER and p["type"] == "interactive"]
        assert len(lists) == 1  # asked once, not once per message
        rows = lists[0]["interactive"]["action"]["sections"][0]["rows"]
        assert len(rows) == 3 and all(len(r["title"]) <= 24 for r in rows)
        assert not Message.objects.filter(origin="relayed").exists()

        choose_thread(post_webhook, CUSTOMER, number, participant(sessions[1], "customer"))

        relayed = Message.objects.filter(origin="relayed").order_by("id")
        assert [m.session_id for m in relayed] == [sessions[1].pk, sessions[1].pk]
        assert [m.body.split("\n", 1)[1] for m in relayed] == [
            "Can I bring a guest?",
            "And park a car?",
        ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_sessions_for_one_new_contact_never_share_a_pair(pool, partner):
    """Four bookings for the same (new) customer opened at the same instant."""
    skip_unless_postgresql()
    from relay.services.sessions import PartyInput, session_open

    def open_one(ref: str):
        customer = PartyInput(name="Sam", phone="+14155550555")
        return lambda: session_open(
            external_ref=ref, workflow="booking", customer=customer, partner=partner, pool=pool
        )

    sessions = at_the_same_instant(*(open_one(f"BK-{i}") for i in range(4)))

    assert all(isinstance(session, RelaySession) for session in sessions), sessions
    customers = Participant.objects.filter(role="customer", session__in=sessions)
    # Two numbers, two sessions on each, all four telling themselves apart by their tags.
    assert sorted(customers.values_list("proxy_number__e164", flat=True)) == [
        "+15550001001",
        "+15550001001",
        "+15550001002",
        "+15550001002",
    ]
    assert all(customers.values_list("multiplexed", flat=True))
    assert customers.values("contact").distinct().count() == 1
    pairs = list(customers.values_list("proxy_number", "thread_tag"))
    assert len(set(pairs)) == 4


def test_a_partners_own_pool_is_used_and_closed_to_other_partners(open_session, partner, pool):
    from tests.relay.factories import partner_with_contact

    own = PoolFactory(name="downtown-only", partner=partner)
    ProxyNumberFactory(pool=own, e164="+15550007001", phone_number_id="7001")
    ProxyNumberFactory(pool=own, e164="+15550007002", phone_number_id="7002", kind="intake")

    session = open_session(pool=None)

    assert session.pool == own
    assert {p.proxy_number.e164 for p in session.participants.all()} == {"+15550007001"}
    other = partner_with_contact("+447700900888", code="loc-b")
    with pytest.raises(RelayError, match="reserved for another partner"):
        open_session("BK-9", partner=other, pool=own)
