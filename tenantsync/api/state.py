"""The OAuth `state` parameter: signed (HMAC-SHA256), bound to the application, customer and
provider, expiring, and single-use (its nonce is recorded when the callback consumes it).

Format: base64url(JSON payload) + "." + base64url(HMAC). The key is derived from
`TENANTSYNC_SECRET_KEY` with a label, so it is never the key that seals credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenantsync.api.models import OAuthState
from tenantsync.controller import crypto

DEFAULT_TTL_SECONDS = 600


class StateError(ValueError):
    """A state that is forged, damaged, expired or already used."""


OAUTH_STATE = "oauth state"
CONNECT_SESSION = "connect session"  # a key holder's permission to start one browser flow


def _key(purpose: str) -> bytes:
    """A key per purpose, so that a token signed for one is never accepted as the other."""
    secret = os.environ.get(crypto.KEY_ENV)
    if not secret:
        raise crypto.CryptoError(f"{crypto.KEY_ENV} is not set: it also signs OAuth states")
    return hmac.new(secret.encode(), f"tenantsync {purpose} v1".encode(),
                    hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], ttl_seconds: int = DEFAULT_TTL_SECONDS,
         purpose: str = OAUTH_STATE) -> str:
    body = {**payload, "nonce": secrets.token_urlsafe(16), "exp": int(time.time()) + ttl_seconds}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(_key(purpose), raw, hashlib.sha256).digest()
    return f"{_b64(raw)}.{_b64(mac)}"


def verify(state: str, purpose: str = OAUTH_STATE) -> dict[str, Any]:
    """The payload of a genuine, unexpired state (not yet checked for reuse)."""
    raw_part, _, mac_part = (state or "").partition(".")
    try:
        raw, mac = _unb64(raw_part), _unb64(mac_part)
    except ValueError:
        raise StateError("state is malformed") from None
    if not hmac.compare_digest(mac, hmac.new(_key(purpose), raw, hashlib.sha256).digest()):
        raise StateError("state signature is invalid (forged or altered)")
    payload = json.loads(raw)
    if payload.get("exp", 0) < time.time():
        raise StateError(f"{purpose} has expired: start the connection again")
    return payload


def consume(session: Session, payload: dict[str, Any]) -> None:
    """Mark the state used; a second use is refused (the nonce is a primary key)."""
    session.add(OAuthState(nonce=str(payload["nonce"])))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise StateError("state was already used (replayed)") from None
