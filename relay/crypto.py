"""Encryption at rest and keyed lookup hashes for real numbers and other identifiers."""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be a url-safe base64 encoded 32-byte key "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
        ) from exc


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY does not match the stored data") from exc


def lookup_hash(value: str) -> str:
    """A keyed hash, so that equal values can be found without storing them in clear."""
    return hmac.new(
        _lookup_key(settings.FIELD_ENCRYPTION_KEY), value.encode(), "sha256"
    ).hexdigest()


@cache
def _lookup_key(encryption_key: str) -> bytes:
    # Derived from the encryption key rather than SECRET_KEY: rotating SECRET_KEY (sessions,
    # CSRF) must not make every stored contact unfindable.
    return hmac.new(encryption_key.encode(), b"lookup", hashlib.sha256).digest()
