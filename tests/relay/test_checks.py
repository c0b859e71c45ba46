from django.core.checks import run_checks


def ids(settings_overrides, settings) -> set[str]:
    for name, value in settings_overrides.items():
        setattr(settings, name, value)
    return {error.id for error in run_checks() if error.id.startswith("relay.")}


def test_an_unknown_provider_is_refused(settings):
    assert ids({"RELAY_PROVIDER": "twilio"}, settings) == {"relay.E001"}


def test_the_whatsapp_provider_requires_its_secrets(settings):
    assert "relay.E002" in ids(
        {"RELAY_PROVIDER": "whatsapp", "WHATSAPP_ACCESS_TOKEN": ""}, settings
    )


def test_the_console_provider_is_refused_outside_debug(settings):
    assert "relay.E003" in ids({"RELAY_PROVIDER": "console", "DEBUG": False}, settings)


def test_the_encryption_key_is_required(settings):
    assert ids({"FIELD_ENCRYPTION_KEY": ""}, settings) == {"relay.E004"}


def test_time_is_kept_in_utc(settings):
    assert ids({"TIME_ZONE": "Europe/London"}, settings) == {"relay.E005"}


def test_without_a_business_account_templates_cannot_be_synced(settings):
    assert ids({"WHATSAPP_BUSINESS_ACCOUNT_ID": ""}, settings) == {"relay.W001"}


def test_a_complete_configuration_passes(settings):
    assert ids({"RELAY_PROVIDER": "whatsapp"}, settings) == set()


def test_a_production_configured_from_the_environment_passes_the_deploy_check():
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "DEBUG", "RELAY_", "WHATSAPP_"))
    } | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60 + "production-secret-key-of-some-length",
        "ALLOWED_HOSTS": "relay.example.com",
        "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdCE=",
        "RELAY_PROVIDER": "whatsapp",
        "WHATSAPP_ACCESS_TOKEN": "token",
        "WHATSAPP_APP_SECRET": "secret",
        "WHATSAPP_VERIFY_TOKEN": "verify",
        "WHATSAPP_BUSINESS_ACCOUNT_ID": "1",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    }
    checked = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout
