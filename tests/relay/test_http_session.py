"""The Graph API session reads the environment's proxy and CA settings once, as requests
would on every call."""

from relay.providers.whatsapp import http_session


def fresh_session(settings, monkeypatch, **environ):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings.WHATSAPP_ACCESS_TOKEN = f"token-{sorted(environ.items())}"  # a new session
    settings.WHATSAPP_API_BASE = "https://graph.example.com/v25.0"
    return http_session()


def test_an_empty_ca_setting_still_verifies_certificates(settings, monkeypatch):
    session = fresh_session(settings, monkeypatch, CURL_CA_BUNDLE="")
    assert session.verify is True
    assert session.trust_env is False


def test_a_ca_bundle_and_a_proxy_from_the_environment_are_kept(settings, monkeypatch):
    session = fresh_session(
        settings,
        monkeypatch,
        REQUESTS_CA_BUNDLE="/etc/ssl/bundle.pem",
        HTTPS_PROXY="http://proxy.internal:3128",
    )
    assert session.verify == "/etc/ssl/bundle.pem"
    assert session.proxies["https"] == "http://proxy.internal:3128"
