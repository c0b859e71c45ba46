from django.core.checks import run_checks


def ids(settings_overrides, settings) -> set[str]:
    for name, value in settings_overrides.items():
        setattr(settings, name, value)
    return {error.id for error in run_checks() if error.id.startswith("relay.")}


def test_the_whatsapp_provider_requires_its_secrets(settings):
    assert "relay.E002" in ids(
        {"RELAY_PROVIDER": "whatsapp", "WHATSAPP_ACCESS_TOKEN": ""}, settings
    )


def test_the_console_provider_is_refused_outside_debug(settings):
    assert "relay.E003" in ids({"RELAY_PROVIDER": "console", "DEBUG": False}, settings)


def test_a_complete_configuration_passes(settings):
    assert ids({"RELAY_PROVIDER": "whatsapp"}, settings) == set()
