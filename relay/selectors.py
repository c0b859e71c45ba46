from django.utils import timezone

from relay import crypto
from relay.choices import LIVE_SESSION_STATUSES, Role
from relay.models import RelaySession
from routing.models import Partner


def session_find_live(
    *, external_ref: str, partner: Partner, customer_phone: str
) -> RelaySession | None:
    """The live session already open for this booking, partner and customer, if any: asking
    again (a client retrying after a timeout) must not open a second one."""
    return (
        RelaySession.objects.filter(
            external_ref=external_ref,
            partner=partner,
            status__in=LIVE_SESSION_STATUSES,
            expires_at__gt=timezone.now(),
            participants__role=Role.CUSTOMER,
            participants__contact__phone_hash=crypto.lookup_hash(customer_phone),
        )
        .order_by("-pk")
        .first()
    )
