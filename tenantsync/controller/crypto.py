"""Secrets at rest: AES-256-GCM under a key derived from `TENANTSYNC_SECRET_KEY`.

A sealed value is `v1:` + base64(nonce || ciphertext+tag); the JSON document inside is only
ever decrypted in the process that uses it (the tap, the target's launcher). The key is
derived once per process with HKDF-SHA256, so sealing thousands of rows stays cheap; a wrong
key fails authentication and says so, it never yields garbage.
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ENV = "TENANTSYNC_SECRET_KEY"
PREFIX = "v1:"
MIN_SECRET_LENGTH = 16


class CryptoError(Exception):
    """A secret cannot be sealed or opened (no key, wrong key, damaged value)."""


@lru_cache(maxsize=8)
def _cipher(secret: str) -> AESGCM:
    if len(secret) < MIN_SECRET_LENGTH:
        raise CryptoError(f"{KEY_ENV} must be at least {MIN_SECRET_LENGTH} characters")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"tenantsync registry v1").derive(secret.encode())
    return AESGCM(key)


def _secret(secret: str | None) -> str:
    secret = secret if secret is not None else os.environ.get(KEY_ENV)
    if not secret:
        raise CryptoError(f"{KEY_ENV} is not set: it is the key that encrypts the registry's "
                          "credentials (generate one with `tenantsync keygen`)")
    return secret


def generate_secret() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def seal(document: dict[str, Any], secret: str | None = None) -> str:
    """Encrypt a JSON document; a fresh nonce each time."""
    nonce = os.urandom(12)
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    sealed = _cipher(_secret(secret)).encrypt(nonce, body, PREFIX.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(value: str, secret: str | None = None) -> dict[str, Any]:
    """Decrypt what `seal` produced, or raise CryptoError saying why not."""
    if not value.startswith(PREFIX):
        raise CryptoError("encrypted value has an unknown format (expected 'v1:...')")
    try:
        raw = base64.b64decode(value[len(PREFIX):], validate=True)
    except ValueError:
        raise CryptoError("encrypted value is not valid base64") from None
    if len(raw) < 12 + 16:
        raise CryptoError("encrypted value is truncated")
    try:
        body = _cipher(_secret(secret)).decrypt(raw[:12], raw[12:], PREFIX.encode())
    except InvalidTag:
        raise CryptoError(f"cannot decrypt a registry secret: {KEY_ENV} is not the key it was "
                          "encrypted with, or the value was altered") from None
    return json.loads(body)
