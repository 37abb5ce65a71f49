"""Portal sign-in: an application's API key opens a session; the browser holds only a random
token in an HttpOnly, SameSite=Strict cookie. Every form carries the session's CSRF token,
checked on every POST. One application per session; revoking the key ends its sessions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tenantsync.api import keys
from tenantsync.api.models import ApiKey
from tenantsync.controller.models import utcnow
from tenantsync.portal.models import PortalSession

COOKIE = "tenantsync_portal"
LIFETIME = timedelta(hours=8)


class SignedOut(Exception):
    """No valid session: the page answers with the sign-in page (or 401 for fragments)."""


class BadCsrf(Exception):
    """A form posted without this session's CSRF token."""


@dataclass(frozen=True)
class Signed:
    application_id: str
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(s: Session, api_key: str) -> str | None:
    """A new session's cookie token for a valid, unrevoked key; None otherwise."""
    row = s.scalar(select(ApiKey).where(ApiKey.digest == keys.digest(api_key.strip()),
                                        ApiKey.revoked_at.is_(None)))
    if row is None:
        return None
    s.execute(delete(PortalSession).where(PortalSession.expires_at < utcnow()))
    token = secrets.token_urlsafe(32)
    s.add(PortalSession(digest=_digest(token), application_id=row.application_id,
                        api_key_id=row.id, csrf=secrets.token_urlsafe(32),
                        expires_at=utcnow() + LIFETIME))
    s.commit()
    return token


def current(s: Session, request: Request) -> Signed:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignedOut
    found = s.execute(select(PortalSession, ApiKey.revoked_at)
                      .join(ApiKey, ApiKey.id == PortalSession.api_key_id)
                      .where(PortalSession.digest == _digest(token))).first()
    if found is None or found[1] is not None or found[0].expires_at < utcnow():
        raise SignedOut
    return Signed(found[0].application_id, found[0].csrf)


def check_csrf(signed: Signed, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), signed.csrf.encode()):
        raise BadCsrf


def sign_out(s: Session, request: Request) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        s.execute(delete(PortalSession).where(PortalSession.digest == _digest(token)))
        s.commit()
