"""`Authorization: Bearer <api key>`: keys are stored as SHA-256 hashes only."""

import hashlib
import secrets

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from relay.models import ApiKey

KEY_PREFIX = "sb_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, name: str) -> tuple[ApiKey, str]:
    """Make a key; the clear key is returned once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(name=name, prefix=key[:8], key_hash=hash_key(key))
    return api_key, key


def api_keys_revoke(*, keys) -> int:
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class ApiClient:
    """The authenticated caller of the API: an external system, not a person."""

    is_authenticated = True

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api:{self.api_key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword or not key.strip():
            raise exceptions.AuthenticationFailed("use 'Authorization: Bearer <api key>'")
        api_key = ApiKey.objects.filter(
            key_hash=hash_key(key.strip()), revoked_at__isnull=True
        ).first()
        if api_key is None:
            raise exceptions.AuthenticationFailed("invalid or revoked API key")
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        return ApiClient(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema (and the docs' Authorize button) how callers authenticate."""

    target_class = "relay.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer"}
