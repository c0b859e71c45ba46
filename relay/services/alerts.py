import logging

from django.utils import timezone

from relay.models import OperatorAlert

logger = logging.getLogger(__name__)


def alert_raise(kind: str, message: str) -> OperatorAlert:
    """Tell operators (admin: operator alerts). The same open alert is not raised twice.
    `message` must name no phone number and quote no message text."""
    logger.warning("operator alert %s: %s", kind, message)
    alert = OperatorAlert.objects.filter(
        kind=kind, message=message, resolved_at__isnull=True
    ).first()
    return alert or OperatorAlert.objects.create(kind=kind, message=message)


def alerts_resolve(*, alerts) -> int:
    return alerts.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
