from django.conf import settings
from django.utils.module_loading import import_string

from relay.providers.base import Provider

PROVIDERS = {
    "whatsapp": "relay.providers.whatsapp.WhatsAppProvider",
    "console": "relay.providers.console.ConsoleProvider",
}


def get_provider() -> Provider:
    """The provider named by RELAY_PROVIDER, imported on first use."""
    return import_string(PROVIDERS[settings.RELAY_PROVIDER])()
