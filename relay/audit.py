from relay.models import AuditEvent, Message, RelaySession


def audit_record(
    kind: str,
    *,
    session: RelaySession | None = None,
    message: Message | None = None,
    **detail,
) -> AuditEvent:
    """Append one event to the audit log. `detail` must hold no numbers and no message text."""
    if session is None and message is not None:
        session = message.session
    return AuditEvent.objects.create(kind=kind, session=session, message=message, detail=detail)
