"""Templates: synced from WhatsApp, chosen by the recipient's language, refused when they
do not fit an invitation, listed and set through the API."""

import pytest
from django.core.management import call_command

from relay.choices import MessageStatus
from relay.models import MessageTemplate
from relay.services.templates import templates_sync
from tests.relay.conftest import PARTNER, send_to_partner
from tests.relay.factories import TemplateFactory


def body(text: str) -> list[dict]:
    return [{"type": "BODY", "text": text}]


def listed(name: str, language: str, text: str = "Hi {{1}}", **fields) -> dict:
    """A template as GET /{waba}/message_templates lists it."""
    return {
        "id": f"{name}-{language}",
        "name": name,
        "language": language,
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": body(text),
    } | fields


class TestSync:
    def test_every_page_is_fetched_and_what_matters_is_kept(self, whatsapp_api, db):
        whatsapp_api.templates = [listed(f"t{i}", "en_US") for i in range(230)]
        whatsapp_api.templates[0] = listed(
            "order_update",
            "es",
            "Hola {{1}}, su pedido {{2}} ({{1}})",
            category="MARKETING",
            components=[
                {"type": "HEADER", "format": "IMAGE"},
                {"type": "BODY", "text": "Hola {{1}}, su pedido {{2}} ({{1}})"},
            ],
        )

        result = templates_sync()

        assert (result.accounts, result.created, result.updated) == (["WABA1"], 230, 0)
        assert whatsapp_api.template_pages_served == 3  # 100 a page
        order = MessageTemplate.objects.get(name="order_update")
        assert (order.account, order.language, order.category, order.status) == (
            "WABA1",
            "es",
            "MARKETING",
            "APPROVED",
        )
        assert order.body == "Hola {{1}}, su pedido {{2}} ({{1}})"
        assert order.parameter_names == ["1", "2"] and order.other_variables is True

    def test_a_template_gone_from_whatsapp_is_kept_as_deleted(self, whatsapp_api, db):
        whatsapp_api.templates = [listed("a", "en_US"), listed("b", "en_US", status="PAUSED")]
        templates_sync()
        whatsapp_api.templates = [listed("b", "en_US")]

        result = templates_sync()

        assert (result.created, result.updated, result.removed) == (0, 1, 1)
        statuses = dict(MessageTemplate.objects.values_list("name", "status"))
        assert statuses == {"a": "DELETED", "b": "APPROVED"}

    def test_a_refused_sync_changes_nothing(self, whatsapp_api, settings, db):
        TemplateFactory()
        whatsapp_api.templates = [listed("a", "en_US")]
        settings.WHATSAPP_ACCESS_TOKEN = "expired"

        with pytest.raises(Exception, match="190"):
            templates_sync()

        assert list(MessageTemplate.objects.values_list("name", "status")) == [
            ("new_message_notice", "APPROVED")
        ]

    def test_the_command_syncs_one_account(self, whatsapp_api, db, capsys):
        whatsapp_api.templates = [listed("a", "en_US")]

        call_command("sync_templates", "--account", "WABA2")

        assert MessageTemplate.objects.get().account == "WABA2"
        assert "1 new" in capsys.readouterr().out


class TestApi:
    def test_templates_are_listed_after_a_sync_through_the_api(self, api, whatsapp_api):
        whatsapp_api.templates = [listed("relay_invite", "en_US"), listed("relay_invite", "es")]

        synced = api.post("/api/v1/templates/sync/")
        listed_ = api.get("/api/v1/templates/", {"language": "es"}).json()

        assert synced.status_code == 200
        assert synced.json() == {"accounts": ["WABA1"], "created": 2, "updated": 0, "removed": 0}
        [spanish] = listed_["results"]
        assert spanish["name"] == "relay_invite" and spanish["parameter_count"] == 1
        assert spanish["body"] == "Hi {{1}}" and spanish["status"] == "APPROVED"

    def test_a_sync_whatsapp_refuses_is_502_with_its_reason(self, api, whatsapp_api, settings):
        settings.WHATSAPP_ACCESS_TOKEN = "expired"

        response = api.post("/api/v1/templates/sync/")

        assert response.status_code == 502
        assert "Invalid OAuth access token" in response.json()["detail"]

    def test_a_pool_takes_its_invitation_by_name_and_language(self, api, pool):
        spanish = TemplateFactory(name="relay_invite", language="es")

        response = api.patch(
            f"/api/v1/pools/{pool.pk}/",
            {"notice_template": {"name": "relay_invite", "language": "es"}},
            format="json",
        )

        assert response.status_code == 200, response.json()
        assert response.json()["notice_template"] == {"name": "relay_invite", "language": "es"}
        pool.refresh_from_db()
        assert pool.notice_template == spanish

    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            (None, "there is no template 'relay_invite' in language 'es'"),
            ({"parameter_names": ["1", "2"]}, "needs 2 body values"),
            ({"other_variables": True}, "header or button values"),
            ({"status": "REJECTED"}, "is rejected on WhatsApp"),
            ({"account": "OTHER"}, "there is no template"),
        ],
        ids=["unknown", "two-values", "header-values", "rejected", "other-account"],
    )
    def test_a_template_that_cannot_invite_is_refused_and_nothing_changes(
        self, api, pool, template, reason
    ):
        if template is not None:
            TemplateFactory(name="relay_invite", language="es", **template)
        before = pool.notice_template

        response = api.patch(
            f"/api/v1/pools/{pool.pk}/",
            {"notice_template": {"name": "relay_invite", "language": "es"}},
            format="json",
        )

        assert response.status_code == 400
        assert reason in response.json()["notice_template"][0]
        pool.refresh_from_db()
        assert pool.notice_template == before


class TestLanguage:
    @pytest.mark.parametrize(
        ("language", "sent_in"),
        [("es", "es"), ("es-MX", "es"), ("pt-BR", "pt_BR"), ("ja", "en_US"), ("", "en_US")],
    )
    def test_the_invitation_goes_in_the_recipients_language(
        self, whatsapp_api, open_session, run_tasks, language, sent_in
    ):
        for code in ("es", "es_AR", "pt_BR"):
            TemplateFactory(language=code, body="Hola {{1}}")
        session = open_session()
        partner = session.participants.get(role="partner").contact
        partner.language = language
        partner.save()

        send_to_partner(run_tasks, session, "hello")

        invitation = whatsapp_api.last_to(PARTNER)
        assert invitation["template"]["language"] == {"code": sent_in}

    def test_a_paused_translation_falls_back_to_the_pools_default(
        self, whatsapp_api, open_session, run_tasks
    ):
        TemplateFactory(language="es", status="PAUSED")
        session = open_session()
        contact = session.participants.get(role="partner").contact
        contact.language = "es"
        contact.save()

        message = send_to_partner(run_tasks, session, "hello")

        assert whatsapp_api.last_to(PARTNER)["template"]["language"] == {"code": "en_US"}
        message.refresh_from_db()
        assert message.status == MessageStatus.HELD

    def test_named_parameters_are_sent_by_name(self, whatsapp_api, open_session, run_tasks, pool):
        pool.notice_template = TemplateFactory(
            name="named_invite",
            body="{{sender}} wrote to you",
            parameter_names=["sender"],
            named_parameters=True,
        )
        pool.save()

        send_to_partner(run_tasks, open_session(), "hello")

        parameters = whatsapp_api.last_to(PARTNER)["template"]["components"][0]["parameters"]
        assert parameters == [{"type": "text", "text": "Sam", "parameter_name": "sender"}]
