"""Opening messages: when a session opens, the participants its workflow names hear of it at
once, through an approved template from their own proxy number (their 24-hour window is
most likely closed). Each participant's `opening` says in words what was done."""

from django.conf import settings
from django.db import transaction

from relay import languages
from relay.choices import EventKind, Origin, TemplateStatus
from relay.models import MessageTemplate, Participant, RelaySession
from relay.selectors import contact_language
from relay.services.alerts import alert_raise
from relay.services.queueing import template_message_queue
from relay.texts import text_alias
from relay.timeline import timeline_record

# What an opening template is given, in order, as many as it takes.
OPENING_VALUES = ("aggregator", "booking reference", "the other side's alias")
OPENING_QUEUED = "queued: "


@transaction.atomic(savepoint=False)  # with the session it opens
def openings_queue(*, session: RelaySession, templates: dict[str, str]) -> None:
    """Queue the opening template named in `templates` (role → template name) to each
    participant of that role. One that no approved template can reach is left unsent, says
    why, and an operator is told."""
    participants = list(
        session.participants.filter(active=True).select_related("contact", "proxy_number")
    )
    for participant in participants:
        name = templates.get(participant.role, "")
        if not name:
            continue
        language = contact_language(participant.contact, session.pool)
        template = opening_template(session.pool.account, name, language)
        if template is None:
            _unsent(session, participant, name, language)
            continue
        others = [p for p in participants if p.pk != participant.pk]
        values = [
            settings.AGGREGATOR_NAME,
            session.external_ref,
            text_alias(others[0], language=language) if others else session.external_ref,
        ][: template.parameter_count]
        message = template_message_queue(
            to=participant, template=template, values=values, origin=Origin.OPENING
        )
        participant.opening = f"{OPENING_QUEUED}template {template}"
        participant.save(update_fields=["opening"])
        timeline_record(EventKind.OPENING_QUEUED, message=message, template_id=template.pk)


def opening_template(account: str, name: str, language: str) -> MessageTemplate | None:
    """The approved template `name` of `account` best in `language`: the language itself,
    else the same language of another region, else any approved translation (an opening in
    another language beats none)."""
    approved = list(
        MessageTemplate.objects.filter(
            account=account or settings.WHATSAPP_BUSINESS_ACCOUNT_ID,
            name=name,
            status=TemplateStatus.APPROVED,
            other_variables=False,
        )
    )
    approved = [t for t in approved if t.parameter_count <= len(OPENING_VALUES)]
    if not approved:
        return None
    return max(approved, key=lambda t: (languages.matches(t.language, language), -t.pk))


def _unsent(session: RelaySession, participant: Participant, name: str, language: str) -> None:
    role = participant.get_role_display().lower()
    why = (
        f"not sent: no approved template '{name}' (taking at most {len(OPENING_VALUES)} body "
        "values) can open the conversation"
    )
    participant.opening = why
    participant.save(update_fields=["opening"])
    timeline_record(EventKind.OPENING_UNSENT, session=session, role=participant.role, template=name)
    alert_raise(
        "opening_template_missing",
        f"Session {session.external_ref} (#{session.pk}): the {role} was not told of it: "
        f"{why.removeprefix('not sent: ')} (wanted in {language}). Create and approve it in "
        "WhatsApp Manager, then sync templates, or change the workflow's opening template.",
    )
