"""Startup checks: the chosen provider's settings must be there."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.checks import Warning as CheckWarning

WHATSAPP_SETTINGS = ("WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")


@register(Tags.compatibility)
def check_relay_settings(app_configs, **kwargs) -> list[Error | CheckWarning]:
    errors = []
    if settings.RELAY_PROVIDER not in ("whatsapp", "console"):
        errors.append(Error("RELAY_PROVIDER must be 'whatsapp' or 'console'", id="relay.E001"))
    if settings.RELAY_PROVIDER == "whatsapp":
        for name in WHATSAPP_SETTINGS:
            if not getattr(settings, name):
                errors.append(
                    Error(f"{name} is required when RELAY_PROVIDER=whatsapp", id="relay.E002")
                )
    if settings.RELAY_PROVIDER == "console" and not settings.DEBUG:
        errors.append(
            Error(
                "The console provider sends nothing: use it only with DEBUG=true", id="relay.E003"
            )
        )
    if not settings.FIELD_ENCRYPTION_KEY:
        errors.append(Error("FIELD_ENCRYPTION_KEY is required", id="relay.E004"))
    if settings.TIME_ZONE != "UTC":
        errors.append(Error("TIME_ZONE must be UTC", id="relay.E005"))
    if settings.RELAY_PROVIDER == "whatsapp" and not settings.WHATSAPP_BUSINESS_ACCOUNT_ID:
        errors.append(
            CheckWarning(
                "WHATSAPP_BUSINESS_ACCOUNT_ID is not set: templates cannot be synced unless "
                "every pool names its account",
                id="relay.W001",
            )
        )
    return errors
