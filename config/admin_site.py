"""The admin as Switchboard's configuration console: what an admin configures and what needs
attention first, the tables the relay keeps for itself grouped apart at the end."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest

# (section, [(app label, model name), ...]); models in no section go to "Internals".
SECTIONS = [
    ("Needs attention", [("relay", "operatoralert"), ("relay", "heldmessage")]),
    (
        "Numbers and templates",
        [
            ("relay", "maskingpool"),
            ("relay", "proxynumber"),
            ("relay", "messagetemplate"),
            ("relay", "textoverride"),
        ],
    ),
    (
        "Partners",
        [
            ("routing", "partner"),
            ("routing", "partnercontact"),
            ("routing", "specialization"),
            ("routing", "partnertag"),
            ("routing", "reference"),
        ],
    ),
    (
        "Routing",
        [
            ("routing", "workflow"),
            ("routing", "rule"),
            ("relay", "command"),
            ("routing", "routingdecision"),
            ("routing", "team"),
            ("routing", "agent"),
        ],
    ),
    ("Access", [("relay", "apikey"), ("auth", "user"), ("auth", "group")]),
    (
        "Conversations",
        [
            ("relay", "relaysession"),
            ("relay", "message"),
            ("relay", "contact"),
            ("relay", "leakageattempt"),
            ("relay", "timelineevent"),
        ],
    ),
]
INTERNALS = "Internals"


class SwitchboardAdminSite(admin.AdminSite):
    site_header = "Switchboard"
    site_title = "Switchboard"
    index_title = "Configuration"
    index_template = "admin/switchboard_index.html"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        models = {
            (app["app_label"], model["object_name"].lower()): model | {"app": app}
            for app in apps
            for model in app["models"]
        }
        sections = []
        for name, keys in SECTIONS:
            found = [models.pop(key) for key in keys if key in models]
            if found:
                sections.append(_section(name, found))
        if models:
            sections.append(_section(INTERNALS, list(models.values())))
        return sections

    def index(self, request: HttpRequest, extra_context: dict | None = None):
        from relay.selectors import attention  # the admin site loads before the apps

        context = {
            "attention": attention(),
            "simulator": settings.RELAY_PROVIDER == "console",
        }
        return super().index(request, context | (extra_context or {}))


def _section(name: str, models: list[dict]) -> dict:
    first = models[0]["app"]
    return {
        "name": name,
        "app_label": name.lower().replace(" ", "-"),
        "app_url": first["app_url"],
        "has_module_perms": True,
        "models": [{k: v for k, v in model.items() if k != "app"} for model in models],
    }
