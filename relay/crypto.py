"""Encryption at rest and keyed lookup hashes for real numbers and other identifiers."""

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


# A value sealed with AES-GCM starts so; a Fernet token starts "gAAAAA" (no colon in base64).
SEALED = "g1:"


def seal(value: str) -> str:
    """Encrypt a large value on the hot path (a webhook body): AES-256-GCM under a key derived
    from FIELD_ENCRYPTION_KEY costs a quarter of what Fernet does. decrypt() reads both."""
    nonce = os.urandom(12)
    sealed = _aead(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, value.encode(), None)
    return SEALED + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    key = settings.FIELD_ENCRYPTION_KEY
    try:
        if token.startswith(SEALED):
            raw = base64.urlsafe_b64decode(token.removeprefix(SEALED))
            return _aead(key).decrypt(raw[:12], raw[12:], None).decode()
        return _fernet(key).decrypt(token.encode()).decode()
    except (InvalidToken, InvalidTag) as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY does not match the stored data") from exc


@cache
def _aead(key: str) -> AESGCM:
    _fernet(key)  # the same checks, and the same message, for a key that is not one
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sealed values")
    return AESGCM(derive.derive(base64.urlsafe_b64decode(key)))


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
