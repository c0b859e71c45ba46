import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from relay.api.authentication import api_key_create
from relay.choices import SessionStatus, TextKey
from relay.models import (
    Contact,
    Handover,
    Message,
    MessageTemplate,
    Note,
    OperatorAlert,
    OutboundHold,
    Quote,
    Reminder,
    Slot,
    TextOverride,
    ThreadView,
    TimelineEvent,
    WebhookPayload,
)
from relay.services.alerts import alert_raise
from relay.services.webhooks import webhook_store
from routing.models import (
    Agent,
    Partner,
    PartnerTag,
    Reference,
    RoutingDecision,
    Rule,
    Specialization,
    Team,
)
from tests.relay import wa
from tests.relay.conftest import CUSTOMER, PARTNER, participant
from tests.relay.factories import TemplateFactory

REAL_DIGITS = (CUSTOMER.lstrip("+"), PARTNER.lstrip("+"), "7700 900456")


@pytest.fixture
def relayed(settings, open_session, run_tasks):
    """A session in which the customer wrote once, with a number the privacy guard removed;
    one row of every model the admin shows."""
    settings.RELAY_PROVIDER = "console"
    session = open_session()
    number = participant(session, "customer").proxy_number
    item = wa.message(CUSTOMER, body="Call me on +44 7700 900456")
    run_tasks(webhook_store, body=wa.encode(wa.envelope(number.phone_number_id, messages=[item])))
    alert_raise("template_status", "Template new_message_notice is now PAUSED")
    OutboundHold.objects.create(error_code=190, reason="access token expired")
    api_key_create(name="booking-platform")
    TextOverride.objects.create(key=TextKey.ENDED, language="en", text="This booking is over.")
    _one_of_each_routing_row(session)
    Quote.objects.create(session=session, amount=1200, currency="USD")
    Handover.objects.create(session=session, expires_at=session.expires_at)
    Note.objects.create(session=session, body="Prefers mornings")
    slot = Slot.objects.create(session=session, starts_at=session.expires_at)
    Reminder.objects.create(slot=slot, due_at=session.expires_at)
    return session


def _one_of_each_routing_row(session) -> None:
    partner = session.partner
    partner.specializations.add(Specialization.objects.create(name="Platinum Setting"))
    partner.tags.add(PartnerTag.objects.create(name="AV-equipped"))
    team = Team.objects.create(slug="desk", name="Desk")
    user = get_user_model().objects.create_user("ana")
    Agent.objects.create(user=user).teams.add(team)
    Reference.objects.create(code="PO1234", partner=partner)
    ThreadView.objects.create(user=user, session=session, seen_at=session.created_at)
    Rule.objects.create(
        name="orders",
        conditions=[{"kind": "regex", "value": "(?P<ref>PO\\d+)"}],
        actions=[{"kind": "partner_by_reference", "value": "ref"}],
        stop=True,
    )
    RoutingDecision.objects.create(session=session, steps=[{"rule": 1, "name": "x", "did": []}])


def admin_url(obj_or_model, view: str, *args) -> str:
    opts = obj_or_model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def project_models() -> list:
    return [
        *apps.get_app_config("relay").get_models(),
        *apps.get_app_config("routing").get_models(),
    ]


def test_every_relay_and_routing_model_is_in_the_admin():
    for model in project_models():
        assert admin.site.is_registered(model), model


def test_every_admin_page_loads_for_a_superuser(admin_client, admin_user, rf, relayed):
    request = rf.get("/")
    request.user = admin_user
    for model in project_models():
        model_admin = admin.site.get_model_admin(model)
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200, model
        assert admin_client.get(admin_url(model, "changelist"), {"q": "x"}).status_code == 200
        if model_admin.has_add_permission(request):
            assert admin_client.get(admin_url(model, "add")).status_code == 200, model
        obj = model._default_manager.first()
        assert obj is not None, f"the fixture makes no {model.__name__}"
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200, model


@pytest.fixture
def staff_client(client, django_user_model):
    """Logs in a staff user who may view everything, except real numbers unless asked."""

    def login(*, real_numbers: bool = False):
        user = django_user_model.objects.create_user("agent", password="pw", is_staff=True)
        permissions = Permission.objects.filter(
            content_type__app_label__in=["relay", "routing"], codename__startswith="view_"
        )
        if not real_numbers:
            permissions = permissions.exclude(codename="view_real_number")
        user.user_permissions.add(*permissions)
        client.force_login(user)
        return client

    return login


def test_staff_without_permission_never_sees_a_real_number(staff_client, relayed):
    client = staff_client()
    contact = relayed.partner.contacts.get().contact
    inbound = Message.objects.get(direction="in")
    pages = [
        admin_url(Contact, "changelist"),
        admin_url(contact, "change", contact.pk),
        admin_url(relayed, "change", relayed.pk),
        admin_url(relayed.partner, "change", relayed.partner.pk),
        admin_url(inbound, "change", inbound.pk),
        admin_url(Message, "changelist"),
        admin_url(WebhookPayload, "change", WebhookPayload.objects.get().pk),
        reverse("admin:relay_participant_changelist"),
        reverse("admin:routing_partnercontact_changelist"),
        reverse("admin:relay_consolemessage_changelist"),
        reverse("admin:relay_leg_changelist"),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        content = response.content.decode()
        for digits in REAL_DIGITS:
            assert digits not in content, (page, digits)
    assert "+44 •••• 123" in client.get(admin_url(Contact, "changelist")).content.decode()


def test_searching_contacts_by_number_needs_the_permission(staff_client, relayed):
    changelist = admin_url(Contact, "changelist")

    blind = staff_client().get(changelist, {"q": PARTNER})

    assert blind.context["cl"].result_count == 0


def test_staff_with_permission_sees_and_finds_the_real_number(staff_client, relayed):
    client = staff_client(real_numbers=True)
    contact = relayed.partner.contacts.get().contact

    page = client.get(admin_url(contact, "change", contact.pk))
    found = client.get(admin_url(Contact, "changelist"), {"q": PARTNER})

    assert PARTNER in page.content.decode()
    assert list(found.context["cl"].result_list) == [contact]


def test_the_timeline_cannot_be_changed_or_deleted_through_the_admin(admin_client, relayed):
    event = TimelineEvent.objects.first()
    change = admin_url(event, "change", event.pk)

    page = admin_client.get(change)
    edit = admin_client.post(change, {"kind": "tampered"})
    delete = admin_client.post(admin_url(event, "delete", event.pk), {"post": "yes"})
    add = admin_client.get(admin_url(event, "add"))
    changelist = admin_client.get(admin_url(event, "changelist"))

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (edit.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert "delete_selected" not in changelist.content.decode()
    assert TimelineEvent.objects.get(pk=event.pk).kind == event.kind


def test_close_action_closes_a_session(admin_client, open_session):
    session = open_session()

    response = admin_client.post(
        admin_url(session, "changelist"), {"action": "close", "_selected_action": [session.pk]}
    )

    session.refresh_from_db()
    assert response.status_code == 302
    assert session.status == SessionStatus.CLOSED
    assert not session.participants.filter(active=True).exists()


def test_reopen_action_reopens_a_closed_session(admin_client, open_session):
    session = open_session()
    changelist = admin_url(session, "changelist")
    admin_client.post(changelist, {"action": "close", "_selected_action": [session.pk]})

    admin_client.post(changelist, {"action": "reopen", "_selected_action": [session.pk]})

    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE


def test_a_partner_contact_is_added_by_phone_number(admin_client, db):
    response = admin_client.post(
        admin_url(Partner, "add"),
        {
            "code": "loc-b",
            "name": "Harbour Hub",
            "kind": "location",
            "active": "on",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-name": "Bea",
            "contacts-0-role": "manager",
            "contacts-0-phone": "+44 7700 900777",
        },
    )

    assert response.status_code == 302
    contact = Partner.objects.get(code="loc-b").contacts.get()
    assert contact.name == "Bea" and contact.contact.phone == "+447700900777"


def test_a_partner_contact_cannot_be_one_of_our_numbers(admin_client, pool):
    response = admin_client.post(
        admin_url(Partner, "add"),
        {
            "code": "loc-b",
            "name": "Harbour Hub",
            "kind": "location",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-name": "Bea",
            "contacts-0-phone": "+15550001001",
        },
    )

    assert response.status_code == 200
    assert "one of our own WhatsApp numbers" in response.content.decode()
    assert not Partner.objects.filter(code="loc-b").exists()


def test_resume_sending_clears_the_hold(admin_client, db):
    hold = OutboundHold.objects.create(error_code=190, reason="access token expired")

    admin_client.post(
        admin_url(hold, "changelist"), {"action": "resume_sending", "_selected_action": [hold.pk]}
    )

    hold.refresh_from_db()
    assert hold.cleared_at is not None


def test_mark_resolved_resolves_an_alert(admin_client, db):
    alert = alert_raise("outbound_halted", "All sending is paused")

    admin_client.post(
        admin_url(alert, "changelist"), {"action": "mark_resolved", "_selected_action": [alert.pk]}
    )

    assert OperatorAlert.objects.get(pk=alert.pk).resolved_at is not None


def test_templates_are_synced_from_the_changelist(admin_client, settings, db):
    settings.RELAY_PROVIDER = "console"  # its local catalogue stands in for WhatsApp Manager
    changelist = reverse("admin:relay_messagetemplate_changelist")

    page = admin_client.get(changelist)
    response = admin_client.post(reverse("admin:relay_messagetemplate_sync"), follow=True)

    assert "Sync templates from WhatsApp" in page.content.decode()
    assert response.redirect_chain[-1][0] == changelist
    assert "Templates synced" in response.content.decode()
    assert MessageTemplate.objects.filter(name="relay_invite", language="es").exists()


def test_a_pool_cannot_be_given_a_template_that_does_not_fit(admin_client, pool):
    two_values = TemplateFactory(name="quote", parameter_names=["1", "2"])
    page = reverse("admin:relay_maskingpool_change", args=[pool.pk])
    form = {
        "name": pool.name,
        "language": "es",
        "multiplexing": "on",
        "notice_template": two_values.pk,
        "numbers-TOTAL_FORMS": "0",
        "numbers-INITIAL_FORMS": "0",
    }

    response = admin_client.post(page, form)

    assert response.status_code == 200
    assert "needs 2 body values" in response.content.decode()
    pool.refresh_from_db()
    assert pool.notice_template != two_values


def test_the_admin_leads_with_configuration_and_attention(admin_client, settings, relayed):
    settings.RELAY_PROVIDER = "console"

    page = admin_client.get(reverse("admin:index"))

    sections = [section["name"] for section in page.context["app_list"]]
    assert sections[:6] == [
        "Needs attention",
        "Numbers and templates",
        "Partners",
        "Routing",
        "Access",
        "Conversations",
    ]
    assert sections[-1] == "Internals"
    internals = {m["object_name"] for m in page.context["app_list"][-1]["models"]}
    assert {"Leg", "WebhookPayload", "ConsoleMessage", "Participant"} <= internals
    html = page.content.decode()
    assert "<title>Configuration | Switchboard</title>" in html
    assert "1 open operator alert" in html and "1 held message" in html
    assert "All sending is paused" in html and reverse("simulator:phone") in html


def test_a_held_message_is_listed_with_why_it_waits(admin_client, relayed):
    page = admin_client.get(reverse("admin:relay_heldmessage_changelist")).content.decode()

    assert "waiting: the partner&#x27;s 24-hour window is closed" in page
