"""Endpoint signing secrets encrypted at rest: a database dump alone does not reveal them.

The column holds a Fernet token (AES-128-CBC with an HMAC-SHA256), keyed by
FIELD_ENCRYPTION_KEY or, when that is empty, a key derived from SECRET_KEY; the model
attribute is the plain `whsec_` secret, so signing code reads endpoint.secret as before.
A row still holding a plain secret (written before the encrypting migration) reads as it is.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PLAIN_PREFIX = "whsec_"


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        # A key of its own purpose, so the secret key itself is never the cipher key.
        digest = hashlib.sha256(b"frontdoor endpoint secrets\0" + settings.SECRET_KEY.encode())
        key = base64.urlsafe_b64encode(digest.digest()).decode()
    return Fernet(key)


def encrypt_secret(plain: str) -> str:
    if not plain:
        return plain
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_secret(stored: str) -> str:
    if not stored or stored.startswith(PLAIN_PREFIX):
        return stored
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An endpoint secret cannot be decrypted: FIELD_ENCRYPTION_KEY (or SECRET_KEY, "
            "when that is empty) is not the key it was stored with"
        ) from exc


class EncryptedSecretField(models.CharField):
    """A CharField stored encrypted. Not for lookups: each write's ciphertext differs."""

    def from_db_value(self, value, expression, connection):
        return decrypt_secret(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt_secret(value) if value is not None else value
