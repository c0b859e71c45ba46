"""Message templates: synced from WhatsApp (they are created and approved in WhatsApp
Manager, never here), and checked before a pool is set to send one."""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from relay.choices import TemplateStatus
from relay.exceptions import RelayError
from relay.models import MaskingPool, MessageTemplate
from relay.providers import get_provider

PARAMETER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass
class SyncResult:
    accounts: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    removed: int = 0


def template_accounts() -> list[str]:
    """The WhatsApp Business Accounts whose templates we keep: the default and any a pool
    names."""
    default = settings.WHATSAPP_BUSINESS_ACCOUNT_ID
    named = MaskingPool.objects.exclude(account="").values_list("account", flat=True)
    return sorted({default, *named} - {""}) or [default]


def templates_sync(*, account: str | None = None) -> SyncResult:
    """Fetch every template of `account` (default: all of template_accounts()) and keep name,
    language, category, status, body and parameters. Templates gone from WhatsApp are kept
    as DELETED, so that pools and past messages still name them."""
    result = SyncResult()
    for each in [account] if account is not None else template_accounts():
        items = get_provider().list_templates(account=each)  # before any write: all or nothing
        with transaction.atomic():
            _store(each, items, result)
        result.accounts.append(each)
    return result


def _store(account: str, items: list[dict], result: SyncResult) -> None:
    now = timezone.now()
    seen = []
    for item in items:
        fields = _fields_of(item) | {"synced_at": now}
        template, created = MessageTemplate.objects.update_or_create(
            account=account, name=item["name"], language=item["language"], defaults=fields
        )
        seen.append(template.pk)
        result.created += created
        result.updated += not created
    result.removed = (
        MessageTemplate.objects.filter(account=account)
        .exclude(pk__in=seen)
        .exclude(status=TemplateStatus.DELETED)
        .update(status=TemplateStatus.DELETED, synced_at=now)
    )


def _fields_of(item: dict) -> dict:
    """What we keep of one template as the Cloud API describes it."""
    body, other_variables = "", False
    for component in item.get("components") or []:
        kind = (component.get("type") or "").upper()
        if kind == "BODY":
            body = component.get("text") or ""
        elif kind == "HEADER":
            text = component.get("text") or ""
            other_variables |= component.get("format", "TEXT") != "TEXT" or bool(
                PARAMETER.search(text)
            )
        elif kind == "BUTTONS":
            for button in component.get("buttons") or []:
                other_variables |= bool(PARAMETER.search(button.get("url") or ""))
    return {
        "status": item.get("status") or TemplateStatus.PENDING,
        "category": item.get("category") or "",
        "body": body,
        "parameter_names": list(dict.fromkeys(PARAMETER.findall(body))),
        "named_parameters": item.get("parameter_format") == "NAMED",
        "other_variables": other_variables,
        "template_id": str(item.get("id") or ""),
    }


def invitation_template_find(*, account: str, name: str, language: str) -> MessageTemplate:
    """The template `name` in `language` of `account` (blank: the default account), checked
    to serve as an invitation; RelayError says why it cannot."""
    account = account or settings.WHATSAPP_BUSINESS_ACCOUNT_ID
    template = MessageTemplate.objects.filter(account=account, name=name, language=language).first()
    if template is None:
        raise RelayError(
            f"there is no template '{name}' in language '{language}'; create it in WhatsApp "
            "Manager, then sync templates (POST /api/v1/templates/sync/)",
            field="notice_template",
        )
    problem = template.invitation_problem(account=account)
    if problem:
        raise RelayError(problem, field="notice_template")
    return template
